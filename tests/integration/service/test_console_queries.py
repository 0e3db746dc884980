"""Service queries the console needs: subscriber search, counts, session secret, token revocation
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.casm import SEARCH_ROWS_MAX
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, SubscriberInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER, load_basics


@pytest.fixture
def basics(services: Services, admin: Actor) -> Services:
    load_basics(services, admin)
    return services


def _subscribers(services: Services, admin: Actor, provider: str, *clis: str) -> None:
    """One customer with one account holding subscribers with these CLIs (card = 'C' + CLI)."""
    customer = services.casm.create_customer(
        admin, CustomerInput(name=f"Owner {provider} {clis[0]}", service_provider=provider)
    )
    account = services.casm.create_account(
        admin, AccountInput(customer_id=customer.id, account_type="PAYER")
    )
    for cli in clis:
        services.casm.create_subscriber(
            admin, SubscriberInput(subscriber_id=cli, account_id=account.id, card_number=f"C{cli}")
        )


def _clis(services: Services, actor: Actor, by: str, text: str, exact: bool = False) -> list[str]:
    found = services.casm.search_subscribers(actor, PROVIDER, by, text, exact)
    return [s.subscriber_id for s in found]


def test_search_by_prefix_or_exact_within_one_provider(basics: Services, admin: Actor) -> None:
    _subscribers(basics, admin, PROVIDER, "3161000", "3161001", "3162000", "31610")
    _subscribers(basics, admin, OTHER_PROVIDER, "3161002")
    assert _clis(basics, admin, "subscriber_id", "3161") == ["31610", "3161000", "3161001"]
    assert _clis(basics, admin, "subscriber_id", "31610", exact=True) == ["31610"]
    assert _clis(basics, admin, "card_number", "C3162") == ["3162000"]
    assert _clis(basics, admin, "subscriber_id", "31%") == []  # no wildcards
    assert len(_clis(basics, admin, "subscriber_id", "")) == 4


def test_search_returns_at_most_the_row_limit(basics: Services, admin: Actor) -> None:
    _subscribers(basics, admin, PROVIDER, *(f"4{i:04d}" for i in range(SEARCH_ROWS_MAX + 1)))
    assert len(_clis(basics, admin, "subscriber_id", "4")) == SEARCH_ROWS_MAX


def test_search_refuses_an_unknown_column_and_a_foreign_provider(
    basics: Services, admin: Actor
) -> None:
    with pytest.raises(DomainError) as caught:
        basics.casm.search_subscribers(admin, PROVIDER, "pin", "1")
    assert (caught.value.kind, caught.value.field) == (ProblemKind.INVALID_VALUE, "by")
    limited = Actor("limited", ROLE_PRIVILEGES[Role.READ_ONLY], frozenset({OTHER_PROVIDER}))
    with pytest.raises(DomainError) as caught:
        basics.casm.search_subscribers(limited, PROVIDER, "subscriber_id", "")
    assert caught.value.kind is ProblemKind.FORBIDDEN


def test_counts_per_provider_and_for_what_the_operator_may_see(
    basics: Services, admin: Actor
) -> None:
    _subscribers(basics, admin, PROVIDER, "5001", "5002")
    _subscribers(basics, admin, OTHER_PROVIDER, "5003")
    mine = basics.casm.counts(admin, PROVIDER)
    assert (mine.customers, mine.accounts, mine.subscribers) == (1, 1, 2)
    everything = basics.casm.counts(admin)
    assert (everything.customers, everything.accounts, everything.subscribers) == (2, 2, 3)
    limited = Actor("limited", ROLE_PRIVILEGES[Role.READ_ONLY], frozenset({OTHER_PROVIDER}))
    assert basics.casm.counts(limited).subscribers == 1
    with pytest.raises(DomainError) as caught:
        basics.casm.counts(limited, PROVIDER)
    assert caught.value.kind is ProblemKind.FORBIDDEN


def test_session_secret_is_made_once_and_kept(services: Services) -> None:
    first = services.operators.session_secret()
    assert len(first) >= 48
    assert services.operators.session_secret() == first


def test_revoked_token_no_longer_authenticates(services: Services, admin: Actor) -> None:
    services.operators.create(admin, "console", "console-pass-1", Role.OPERATOR.value)
    token, _ = services.operators.issue_token("console", "console-pass-1")
    assert services.operators.actor_for_token(token).username == "console"
    services.operators.revoke_token(token)
    with pytest.raises(DomainError) as caught:
        services.operators.actor_for_token(token)
    assert caught.value.kind is ProblemKind.UNAUTHENTICATED
    services.operators.revoke_token(token)  # a second logout is harmless
