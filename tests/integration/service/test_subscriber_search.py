"""Finding subscribers: one field, exact or prefix, one row per wallet, at most 100 rows with a
truncation flag (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.casm import SEARCH_ROWS_MAX
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.core.subscriber_search import SubscriberSearchResult
from ocs.core.wallets import WalletType
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.wallets import PRODUCT, load_wallet_catalog


@pytest.fixture
def catalog(services: Services, admin: Actor) -> Services:
    load_wallet_catalog(services, admin)
    return services


def _account(services: Services, admin: Actor, name: str, provider: str = PROVIDER) -> int:
    customer = services.casm.create_customer(
        admin, CustomerInput(name=name, service_provider=provider)
    )
    inp = AccountInput(customer_id=customer.id, account_type="PAYER")
    return services.casm.create_account(admin, inp).id


def _subscriber(
    services: Services, admin: Actor, account_id: int, cli: str, reference: str | None = None
) -> int:
    wallet = None if reference is None else WalletInput(product_type=PRODUCT, reference=reference)
    inp = SubscriberInput(subscriber_id=cli, account_id=account_id, card_number=f"C{cli}",
                          wallet=wallet)  # fmt: skip
    return services.casm.create_subscriber(admin, inp).subscriber.id


def _find(
    services: Services, admin: Actor, exact: bool = False, **criteria: str
) -> SubscriberSearchResult:
    return services.casm.search(admin, PROVIDER, criteria, exact)


def _rows(result: SubscriberSearchResult) -> list[tuple[str, str | None, str | None]]:
    return [
        (r.subscriber.subscriber_id, r.wallet_reference, r.wallet_type and r.wallet_type.value)
        for r in result.rows
    ]


def test_one_row_per_wallet_with_its_type(catalog: Services, admin: Actor) -> None:
    account = _account(catalog, admin, "Super Savers")
    both = _subscriber(catalog, admin, account, "3170001", "W-PRIM-1")
    catalog.wallets.create_wallet(
        admin, both, "SECONDARY", WalletInput(product_type=PRODUCT, reference="W-SEC-1")
    )
    _subscriber(catalog, admin, account, "3170002", "W-PRIM-2")
    found = _find(catalog, admin, subscriber_id="3170001")
    assert _rows(found) == [
        ("3170001", "W-PRIM-1", "PRIMARY"),
        ("3170001", "W-SEC-1", "SECONDARY"),
    ]
    assert not found.truncated
    assert found.rows[0].customer_name == "Super Savers"
    assert found.rows[0].wallet_state is not None


def test_a_shared_wallet_gives_a_row_per_linked_subscriber(catalog: Services, admin: Actor) -> None:
    account = _account(catalog, admin, "Family")
    owner = _subscriber(catalog, admin, account, "3171001", "W-SHARED")
    partner = _subscriber(catalog, admin, account, "3171002", "W-OWN")
    assert catalog.wallets.subscriber_wallets(admin, owner)[0].wallet.reference == "W-SHARED"
    catalog.wallets.link_wallet(admin, partner, "SECONDARY", "W-SHARED")
    found = _find(catalog, admin, wallet_reference="W-SHARED", exact=True)
    assert _rows(found) == [
        ("3171001", "W-SHARED", "PRIMARY"),
        ("3171002", "W-SHARED", "SECONDARY"),
    ]
    # By prefix the partner's own wallet matches too.
    assert len(_find(catalog, admin, wallet_reference="W-").rows) == 3


def test_prefix_versus_exact_on_every_field(catalog: Services, admin: Actor) -> None:
    savers = _account(catalog, admin, "Super Savers")
    superb = _account(catalog, admin, "Superb Ltd")
    _subscriber(catalog, admin, savers, "3172000", "REF-10")
    _subscriber(catalog, admin, savers, "31720001", "REF-100")
    _subscriber(catalog, admin, superb, "3172100", "REF-200")
    _subscriber(catalog, admin, _account(catalog, admin, "Elsewhere", OTHER_PROVIDER), "3172001")

    def clis(exact: bool = False, **criteria: str) -> list[str]:
        return [r.subscriber.subscriber_id for r in _find(catalog, admin, exact, **criteria).rows]

    assert clis(subscriber_id="317200") == ["3172000", "31720001"]
    assert clis(subscriber_id="3172000", exact=True) == ["3172000"]
    assert clis(card_number="C31721") == ["3172100"]
    assert clis(card_number="C3172100", exact=True) == ["3172100"]
    assert clis(wallet_reference="REF-10") == ["3172000", "31720001"]
    assert clis(wallet_reference="REF-10", exact=True) == ["3172000"]
    # Customer names compare without case and special characters, by the name key.
    # Ordered by the name key: "superbltd" before "supersavers".
    assert clis(customer="super") == ["3172100", "3172000", "31720001"]
    assert clis(customer="SUPER saver's", exact=True) == ["3172000", "31720001"]
    assert clis(customer="super", exact=True) == []
    customer_id = _find(catalog, admin, subscriber_id="3172100").rows[0].customer_id
    assert clis(customer_id=str(customer_id)) == ["3172100"]
    assert clis(subscriber_id="31%") == []  # no wildcards


def test_a_subscriber_without_a_wallet_still_shows_once(catalog: Services, admin: Actor) -> None:
    account = _account(catalog, admin, "Walletless")
    _subscriber(catalog, admin, account, "3173000")
    found = _find(catalog, admin, customer="walletless")
    assert _rows(found) == [("3173000", None, None)]
    assert _find(catalog, admin, wallet_reference="3173000").rows == []


def test_more_than_100_rows_are_cut_to_100_with_the_flag(catalog: Services, admin: Actor) -> None:
    account = _account(catalog, admin, "Bulk")
    for i in range(SEARCH_ROWS_MAX + 1):
        _subscriber(catalog, admin, account, f"5{i:04d}")
    found = _find(catalog, admin, subscriber_id="5")
    assert len(found.rows) == SEARCH_ROWS_MAX
    assert found.truncated
    assert found.rows[0].subscriber.subscriber_id == "50000"
    exactly = _find(catalog, admin, subscriber_id="500")  # 50000 .. 50099: 100 rows
    assert (len(exactly.rows), exactly.truncated) == (SEARCH_ROWS_MAX, False)


def test_a_query_on_more_than_one_field_is_refused(catalog: Services, admin: Actor) -> None:
    with pytest.raises(DomainError) as caught:
        _find(catalog, admin, subscriber_id="31", card_number="C31")
    assert caught.value.kind is ProblemKind.INVALID_VALUE
    assert "one field only" in caught.value.detail
    assert "card_number" in caught.value.detail
    assert "subscriber_id" in caught.value.detail
    with pytest.raises(DomainError) as caught:
        _find(catalog, admin, subscriber_id=" ", card_number="")
    assert caught.value.kind is ProblemKind.MISSING_FIELD
    with pytest.raises(DomainError) as caught:
        _find(catalog, admin, customer_id="12a")
    assert (caught.value.kind, caught.value.field) == (ProblemKind.INVALID_VALUE, "customer_id")
    with pytest.raises(DomainError) as caught:
        _find(catalog, admin, customer="'-'")
    assert caught.value.field == "customer"
    with pytest.raises(DomainError) as caught:
        _find(catalog, admin, pin="1234")
    assert caught.value.field == "pin"
    limited = Actor("limited", ROLE_PRIVILEGES[Role.READ_ONLY], frozenset({OTHER_PROVIDER}))
    with pytest.raises(DomainError) as caught:
        catalog.casm.search(limited, PROVIDER, {"subscriber_id": "31"})
    assert caught.value.kind is ProblemKind.FORBIDDEN


def test_the_subscriber_list_search_accepts_the_new_fields(catalog: Services, admin: Actor) -> None:
    """The console's search (one entry per subscriber) works on the new fields too."""
    account = _account(catalog, admin, "Console Co")
    first = _subscriber(catalog, admin, account, "3174000", "CON-1")
    catalog.wallets.create_wallet(
        admin, first, "SECONDARY", WalletInput(product_type=PRODUCT, reference="CON-2")
    )
    found = catalog.casm.search_subscribers(admin, PROVIDER, "wallet_reference", "CON-")
    assert [s.id for s in found] == [first]
    by_customer = catalog.casm.search_subscribers(admin, PROVIDER, "customer", "console co", True)
    assert [s.subscriber_id for s in by_customer] == ["3174000"]
    assert WalletType.SECONDARY in {
        r.wallet_type for r in _find(catalog, admin, subscriber_id="3174000").rows
    }
