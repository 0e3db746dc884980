"""Wallets on SQLite and PostgreSQL: creation with the subscriber, shared and secondary wallets,
states and permissions, activation promotions, limit types, buckets, maximum balance,
adjustment limits, expiry and merges. After every test each balance equals its EDR sum."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.edr import EdrQuery, EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.core.wallets import (
    ChargeOutcome,
    CreditOutcome,
    HistoryEvent,
    LimitType,
    WalletLink,
    WalletState,
    WalletType,
)
from ocs.service.actor import Actor
from ocs.service.casm import SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import (
    BalanceInput,
    BalanceUpdate,
    BucketEdit,
    ChargeRequest,
    MergeRequest,
    WalletUpdate,
    WalletView,
)
from ocs.storage import tables as t
from tests.support.catalog import OTHER_PROVIDER
from tests.support.clock import FakeClock
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    ledger_fingerprint,
    load_wallet_catalog,
    new_account,
    new_subscriber,
    wallet_of,
)

DAY_S = 86400


@pytest.fixture
def ws(services: Services, admin: Actor) -> Iterator[Services]:
    load_wallet_catalog(services, admin)
    yield services
    assert_balances_explained(services)


def _refused(call: Callable[..., object], *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def _unchanged(services: Services, call: Callable[..., object], *args: object) -> DomainError:
    """The refusal of a call, asserting that it left every wallet row as it was."""
    before = ledger_fingerprint(services)
    error = _refused(call, *args)
    assert ledger_fingerprint(services) == before
    return error


def _balances(view: WalletView) -> dict[str, tuple[int, int]]:
    return {b.balance_type: (b.total_value, b.available_value) for b in view.balances}


def _buckets(view: WalletView, balance_type: str) -> list[tuple[int, object, object]]:
    balance = next(b for b in view.balances if b.balance_type == balance_type)
    return [(b.value, b.start_at, b.expires_at) for b in balance.buckets]


def _edr_types(services: Services, admin: Actor, subscriber_id: int) -> list[EdrType]:
    page = services.edrs.search(admin, EdrQuery(subscriber_id=subscriber_id, reverse=True))
    return [hit.edr.type for hit in page.items]


def _active(services: Services, admin: Actor, wallet: WalletInput | None = None) -> tuple[int, int]:
    subscriber = new_subscriber(services, admin, wallet)
    wallet_id = wallet_of(services, admin, subscriber)
    services.wallets.activate(admin, wallet_id)
    return subscriber, wallet_id


def _charge(services: Services, subscriber: int, **amounts: int) -> ChargeOutcome:
    return services.wallets.charge(ChargeRequest(subscriber, amounts)).outcome


# -- creation, secondary and shared wallets, deletion ---------------------------------------------


def test_a_new_subscriber_gets_a_pre_use_primary_wallet_in_the_same_transaction(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    account_id = new_account(ws, admin)
    subscriber = new_subscriber(ws, admin, account_id=account_id)
    [view] = ws.wallets.subscriber_wallets(admin, subscriber)
    wallet = view.wallet
    assert (wallet.state, wallet.reference, wallet.currency, wallet.display_currency) == (
        WalletState.PRE_USE, f"W{wallet.id:010d}", "EUR", "EUR",
    )  # fmt: skip
    assert (wallet.limit_type, wallet.max_concurrent_accesses, wallet.created_at) == (
        LimitType.PREPAID, 3, clock.now(),
    )  # fmt: skip
    account = ws.casm.get_account(admin, account_id)
    assert wallet.customer_id == account.customer_id
    assert view.links == [WalletLink(subscriber, WalletType.PRIMARY, wallet.id)]
    assert [(b.balance_type, b.limit_type, b.total_value) for b in view.balances] == [
        ("CASH", LimitType.PREPAID, 0)
    ]
    assert [h.event for h in ws.wallets.history(admin, wallet.id)] == [HistoryEvent.CREATED]
    assert _edr_types(ws, admin, subscriber) == [EdrType.WALLET_CREATED]


@pytest.mark.parametrize(
    ("wallet", "kind", "field"),
    [
        (WalletInput("NOPE"), ProblemKind.UNKNOWN_REFERENCE, "wallet.product_type"),
        (WalletInput(PRODUCT, limit_type="CREDIT"), ProblemKind.INVALID_VALUE, "wallet.limit_type"),
        (WalletInput(PRODUCT, limit_type="LIMITED_POSTPAID"), ProblemKind.MISSING_FIELD,
         "wallet.minimum_credit"),
        (WalletInput(PRODUCT, limit_type="LIMITED_POSTPAID", minimum_credit=5),
         ProblemKind.INVALID_VALUE, "wallet.minimum_credit"),
        (WalletInput(PRODUCT, minimum_credit=-5), ProblemKind.INVALID_VALUE,
         "wallet.minimum_credit"),
        (WalletInput(PRODUCT, reference="W0000000042"), ProblemKind.INVALID_VALUE,
         "wallet.reference"),
        (WalletInput(PRODUCT, max_concurrent_accesses=0), ProblemKind.INVALID_VALUE,
         "wallet.max_concurrent_accesses"),
        (WalletInput(PRODUCT, currency="USD"), ProblemKind.INVALID_VALUE, "wallet.currency"),
        (WalletInput(PRODUCT, display_currency="XXX"), ProblemKind.UNKNOWN_REFERENCE,
         "wallet.display_currency"),
        (WalletInput(PRODUCT, customer_id=999), ProblemKind.UNKNOWN_REFERENCE,
         "wallet.customer_id"),
    ],
)  # fmt: skip
def test_bad_new_wallet_fields_create_no_subscriber(
    ws: Services, admin: Actor, wallet: WalletInput, kind: ProblemKind, field: str
) -> None:
    account_id = new_account(ws, admin)
    inp = SubscriberInput(subscriber_id="31699", account_id=account_id, wallet=wallet)
    error = _unchanged(ws, ws.casm.create_subscriber, admin, inp)
    assert (error.kind, error.field) == (kind, field)


def test_secondary_wallet_and_a_shared_wallet_by_reference(ws: Services, admin: Actor) -> None:
    first, second = new_subscriber(ws, admin), new_subscriber(ws, admin)
    family = WalletInput(PRODUCT, reference="FAMILY-1", limit_type="POSTPAID")
    view = ws.wallets.create_wallet(admin, first, "SECONDARY", family)
    assert view.wallet.reference == "FAMILY-1"
    assert [(b.balance_type, b.limit_type) for b in view.balances] == [("CASH", LimitType.POSTPAID)]
    error = _unchanged(ws, ws.wallets.create_wallet, admin, first, "SECONDARY", family)
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "wallet_type")
    error = _unchanged(ws, ws.wallets.create_wallet, admin, second, "SECONDARY", family)
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "reference")
    error = _unchanged(ws, ws.wallets.link_wallet, admin, second, "SECONDARY", "NOPE")
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "reference")

    shared = ws.wallets.link_wallet(admin, second, "SECONDARY", "FAMILY-1")
    assert {(link.subscriber_id, link.wallet_type) for link in shared.links} == {
        (first, WalletType.SECONDARY),
        (second, WalletType.SECONDARY),
    }
    assert ws.wallets.find_wallet(admin, "FAMILY-1").wallet.id == view.wallet.id
    error = _unchanged(ws, ws.wallets.link_wallet, admin, second, "SECONDARY", "FAMILY-1")
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "wallet_type")
    events = [h.event for h in ws.wallets.history(admin, view.wallet.id)]
    assert events == [HistoryEvent.CREATED, HistoryEvent.LINKED]


def test_deleting_a_subscriber_deletes_its_wallets_but_a_shared_one_survives(
    ws: Services, admin: Actor
) -> None:
    first, second = new_subscriber(ws, admin), new_subscriber(ws, admin)
    own = wallet_of(ws, admin, first)
    ws.wallets.top_up(admin, own, "CASH", 700)
    shared = ws.wallets.create_wallet(admin, first, "SECONDARY", WalletInput(PRODUCT)).wallet
    ws.wallets.link_wallet(admin, second, "SECONDARY", shared.reference)
    ws.wallets.top_up(admin, shared.id, "CASH", 300)

    ws.casm.delete_subscriber(admin, first)
    assert _refused(ws.wallets.get_wallet, admin, own).kind is ProblemKind.NOT_FOUND
    survivor = ws.wallets.get_wallet(admin, shared.id)
    assert survivor.links == [WalletLink(second, WalletType.SECONDARY, shared.id)]
    assert _balances(survivor)["CASH"] == (300, 300)
    with ws.engine.connect() as conn:
        deleted = conn.execute(
            sa.select(t.edrs.c.type, t.edrs.c.subscriber_id).where(t.edrs.c.wallet_id == own)
        ).all()
    assert (EdrType.WALLET_DELETED.value, first) in deleted

    ws.casm.delete_subscriber(admin, second)
    assert _refused(ws.wallets.get_wallet, admin, shared.id).kind is ProblemKind.NOT_FOUND


# -- activation, states and the permission matrix ---------------------------------------------


def test_activation_applies_the_promotion_and_limit_caps_it(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "DATA", 1500)  # maximum 1000 LIMIT
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "VOICE", 600, validity_s=DAY_S)
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    view = ws.wallets.activate(admin, wallet_id)
    assert (view.wallet.state, view.wallet.activated_at) == (WalletState.ACTIVE, clock.now())
    assert _balances(view) == {"CASH": (0, 0), "DATA": (1000, 1000), "VOICE": (600, 600)}
    assert _buckets(view, "VOICE") == [(600, None, clock.now() + timedelta(days=1))]
    page = ws.edrs.search(admin, EdrQuery(subscriber_id=subscriber, types=frozenset(
        {EdrType.ACTIVATION})))  # fmt: skip
    [activation] = [hit.edr for hit in page.items]
    assert [(b.balance_type, b.old_value, b.delta_value) for b in activation.balances] == [
        ("DATA", 0, 1000), ("VOICE", 0, 600),
    ]  # fmt: skip
    assert activation.detail["dropped"] == {"DATA": 500}
    events = [h.event for h in ws.wallets.history(admin, wallet_id)]
    assert events == [HistoryEvent.CREATED, HistoryEvent.ACTIVATED]
    error = _unchanged(ws, ws.wallets.activate, admin, wallet_id)
    assert (error.kind, error.field) == (ProblemKind.INVALID_STATE_TRANSITION, "state")


def test_activation_over_a_reject_maximum_changes_neither_state_nor_balances(
    ws: Services, admin: Actor
) -> None:
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "DATA", 10)
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "SMS", 150)  # maximum 100 REJECT
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    error = _unchanged(ws, ws.wallets.change_state, admin, wallet_id, "ACTIVE")
    assert (error.kind, error.field) == (
        ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "activation_credits",
    )  # fmt: skip
    # First use is refused the same way, as an outcome.
    assert _charge(ws, subscriber, CASH=1) is ChargeOutcome.MAXIMUM_BALANCE_EXCEEDED
    assert ws.wallets.get_wallet(admin, wallet_id).wallet.state is WalletState.PRE_USE


def test_first_chargeable_use_activates_a_pre_use_wallet(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "CASH", 500)
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    assert ws.wallets.get_wallet(admin, wallet_id).wallet.last_used_at is None
    clock.advance(60)
    result = ws.wallets.charge(ChargeRequest(subscriber, {"CASH": 200}))
    assert (result.outcome, result.wallet_id) == (ChargeOutcome.CHARGED, wallet_id)
    view = ws.wallets.get_wallet(admin, wallet_id)
    assert (view.wallet.state, _balances(view)["CASH"]) == (WalletState.ACTIVE, (300, 300))
    assert view.wallet.activated_at == view.wallet.last_used_at == clock.now()
    assert _edr_types(ws, admin, subscriber) == [
        EdrType.WALLET_CREATED, EdrType.ACTIVATION, EdrType.CHARGE,
    ]  # fmt: skip
    other = wallet_of(ws, admin, new_subscriber(ws, admin))
    assert ws.wallets.first_use(other).state is WalletState.ACTIVE
    assert ws.wallets.first_use(other).state is WalletState.ACTIVE  # already active: no change


def test_state_permissions_transitions_and_product_type_overrides(
    ws: Services, admin: Actor
) -> None:
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    ws.wallets.top_up(admin, wallet_id, "CASH", 1000)  # a PRE_USE wallet may be recharged
    error = _unchanged(ws, ws.wallets.change_state, admin, wallet_id, "SUSPENDED")
    assert (error.kind, error.field) == (ProblemKind.INVALID_STATE_TRANSITION, "state")
    ws.wallets.activate(admin, wallet_id)

    ws.wallets.change_state(admin, wallet_id, "SUSPENDED")
    ws.wallets.top_up(admin, wallet_id, "CASH", 100)  # SUSPENDED: recharge yes ...
    before = ledger_fingerprint(ws)
    assert _charge(ws, subscriber, CASH=10) is ChargeOutcome.NOT_ALLOWED_IN_STATE  # ... charge no
    assert ledger_fingerprint(ws) == before
    ws.wallet_settings.set_permission(admin, PRODUCT, "SUSPENDED", "CHARGE", True)
    assert _charge(ws, subscriber, CASH=10) is ChargeOutcome.CHARGED
    cells = {(c.state, c.action): c for c in ws.wallet_settings.permissions(admin, PRODUCT)}
    cell = cells[(WalletState.SUSPENDED, "CHARGE")]
    assert (cell.allowed, cell.overridden) == (True, True)
    assert not cells[(WalletState.FROZEN, "RECHARGE")].allowed

    ws.wallets.change_state(admin, wallet_id, "FROZEN")
    error = _unchanged(ws, ws.wallets.top_up, admin, wallet_id, "CASH", 5)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    ws.wallets.adjust(admin, wallet_id, "CASH", 5)  # operator corrections stay possible
    error = _unchanged(ws, ws.wallets.change_state, admin, wallet_id, "DORMANT")
    assert error.kind is ProblemKind.INVALID_STATE_TRANSITION

    ws.wallets.change_state(admin, wallet_id, "ACTIVE")
    ws.wallets.change_state(admin, wallet_id, "DORMANT")
    assert _charge(ws, subscriber, CASH=10) is ChargeOutcome.CHARGED  # use wakes DORMANT
    assert ws.wallets.get_wallet(admin, wallet_id).wallet.state is WalletState.ACTIVE

    ws.wallets.change_state(admin, wallet_id, "TERMINATED")
    for target in ("ACTIVE", "PRE_USE", "TERMINATED"):
        assert _unchanged(ws, ws.wallets.change_state, admin, wallet_id, target).kind is (
            ProblemKind.INVALID_STATE_TRANSITION
        )
    assert _charge(ws, subscriber, CASH=1) is ChargeOutcome.NOT_ALLOWED_IN_STATE
    states = [h.state_to for h in ws.wallets.history(admin, wallet_id)][-6:]
    assert states == [
        WalletState.SUSPENDED, WalletState.FROZEN, WalletState.ACTIVE, WalletState.DORMANT,
        WalletState.ACTIVE, WalletState.TERMINATED,
    ]  # fmt: skip


def test_an_expired_wallet_cannot_be_charged(ws: Services, admin: Actor, clock: FakeClock) -> None:
    subscriber, wallet_id = _active(ws, admin)
    ws.wallets.top_up(admin, wallet_id, "CASH", 100)
    update = WalletUpdate(expires_at=clock.now() + timedelta(hours=1))
    ws.wallets.update_wallet(admin, wallet_id, update)
    clock.advance(2 * 3600)
    assert _charge(ws, subscriber, CASH=10) is ChargeOutcome.WALLET_EXPIRED
    ws.wallets.top_up(admin, wallet_id, "CASH", 100)
    ws.wallets.update_wallet(admin, wallet_id, WalletUpdate(clear_expiry=True))
    assert _charge(ws, subscriber, CASH=10) is ChargeOutcome.CHARGED
    events = [h.event for h in ws.wallets.history(admin, wallet_id)]
    assert events.count(HistoryEvent.EXPIRY_CHANGED) == 2


def test_wallet_fields_update(ws: Services, admin: Actor) -> None:
    _, wallet_id = _active(ws, admin)
    view = ws.wallets.update_wallet(
        admin, wallet_id, WalletUpdate(display_currency="USD", max_concurrent_accesses=5)
    )
    assert (view.wallet.display_currency, view.wallet.max_concurrent_accesses) == ("USD", 5)
    error = _unchanged(ws, ws.wallets.update_wallet, admin, wallet_id, WalletUpdate(currency="USD"))
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "currency")
    error = _unchanged(
        ws, ws.wallets.update_wallet, admin, wallet_id, WalletUpdate(max_concurrent_accesses=0)
    )
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "max_concurrent_accesses")


# -- limit types and consumption -----------------------------------------------------------------


def test_prepaid_never_goes_below_zero(ws: Services, admin: Actor) -> None:
    subscriber, wallet_id = _active(ws, admin)
    ws.wallets.top_up(admin, wallet_id, "CASH", 100)
    before = ledger_fingerprint(ws)
    assert _charge(ws, subscriber, CASH=150) is ChargeOutcome.INSUFFICIENT_BALANCE
    assert ledger_fingerprint(ws) == before
    assert _charge(ws, subscriber, CASH=100) is ChargeOutcome.CHARGED
    assert _balances(ws.wallets.get_wallet(admin, wallet_id))["CASH"] == (0, 0)
    error = _unchanged(ws, ws.wallets.adjust, admin, wallet_id, "CASH", -1)
    assert (error.kind, error.field) == (ProblemKind.INSUFFICIENT_BALANCE, "amount")


def test_limited_postpaid_goes_down_to_the_minimum_credit_and_postpaid_has_no_floor(
    ws: Services, admin: Actor
) -> None:
    limited = WalletInput(PRODUCT, limit_type="LIMITED_POSTPAID", minimum_credit=-500)
    subscriber, wallet_id = _active(ws, admin, limited)
    assert _charge(ws, subscriber, CASH=400) is ChargeOutcome.CHARGED
    assert _charge(ws, subscriber, CASH=200) is ChargeOutcome.INSUFFICIENT_BALANCE
    assert _charge(ws, subscriber, CASH=100) is ChargeOutcome.CHARGED
    assert _balances(ws.wallets.get_wallet(admin, wallet_id))["CASH"] == (-500, -500)
    ws.wallets.top_up(admin, wallet_id, "CASH", 700, expires_at=ws.clock.now() + timedelta(1))
    view = ws.wallets.get_wallet(admin, wallet_id)
    assert _balances(view)["CASH"] == (200, 200)  # the debt was paid first
    assert [value for value, _, _ in _buckets(view, "CASH")] == [0, 200]

    postpaid, postpaid_wallet = _active(ws, admin, WalletInput(PRODUCT, limit_type="POSTPAID"))
    assert _charge(ws, postpaid, CASH=10**9) is ChargeOutcome.CHARGED
    assert _balances(ws.wallets.get_wallet(admin, postpaid_wallet))["CASH"] == (-(10**9),) * 2


def test_consumption_takes_earliest_expiry_first_and_skips_buckets_not_started(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber, wallet_id = _active(ws, admin)
    now = clock.now()
    add = ws.wallets.add_bucket
    later = add(admin, wallet_id, "CASH", 100, None, now + timedelta(days=30)).edr
    sooner = add(admin, wallet_id, "CASH", 100, None, now + timedelta(days=10)).edr
    add(admin, wallet_id, "CASH", 100)
    add(admin, wallet_id, "CASH", 100, now + timedelta(days=5))
    view = ws.wallets.get_wallet(admin, wallet_id)
    assert _balances(view)["CASH"] == (400, 300)
    result = ws.wallets.charge(ChargeRequest(subscriber, {"CASH": 150}))
    assert result.edr is not None
    movements = [(m["bucket_id"], m["delta"]) for m in result.edr.detail["buckets"]]  # type: ignore[attr-defined]
    assert movements == [(sooner.detail["bucket"], -100), (later.detail["bucket"], -50)]
    view = ws.wallets.get_wallet(admin, wallet_id)
    assert _buckets(view, "CASH") == [
        (50, None, now + timedelta(days=30)), (100, None, None),
        (100, now + timedelta(days=5), None),
    ]  # fmt: skip
    assert _charge(ws, subscriber, CASH=151) is ChargeOutcome.INSUFFICIENT_BALANCE
    clock.advance(6 * DAY_S)  # the offset bucket has started
    assert _charge(ws, subscriber, CASH=250) is ChargeOutcome.CHARGED


def test_single_use_balances_cannot_be_recharged(ws: Services, admin: Actor) -> None:
    subscriber, wallet_id = _active(ws, admin, WalletInput(PRODUCT, limit_type="SINGLE_USE"))
    error = _unchanged(ws, ws.wallets.top_up, admin, wallet_id, "CASH", 100)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "balance_type")
    ws.wallets.adjust(admin, wallet_id, "CASH", 100)
    assert _charge(ws, subscriber, CASH=100) is ChargeOutcome.CHARGED
    assert _charge(ws, subscriber, CASH=1) is ChargeOutcome.INSUFFICIENT_BALANCE


# -- balances and buckets ----------------------------------------------------------------------


def test_balances_take_the_limit_types_their_balance_type_allows(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber, wallet_id = _active(ws, admin)
    add = ws.wallets.add_balance
    error = _unchanged(ws, add, admin, wallet_id, BalanceInput("BONUS", "LIMITED_POSTPAID", -5))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "limit_type")
    error = _unchanged(ws, add, admin, wallet_id, BalanceInput("DATA", display_currency="EUR"))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "display_currency")
    error = _unchanged(ws, add, admin, wallet_id, BalanceInput("CASH"))
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "balance_type")
    expires = clock.now() + timedelta(days=1)
    view = add(admin, wallet_id, BalanceInput("VOICE", value=600, expires_at=expires))
    assert _buckets(view, "VOICE") == [(600, None, expires)]
    view = add(admin, wallet_id, BalanceInput("BONUS", display_currency="USD"))
    bonus = next(b for b in view.balances if b.balance_type == "BONUS")
    assert (bonus.limit_type, bonus.display_currency) == (LimitType.PREPAID, "USD")

    update = ws.wallets.update_balance
    error = _unchanged(ws, update, admin, wallet_id, "CASH", BalanceUpdate("LIMITED_POSTPAID"))
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "minimum_credit")
    update(admin, wallet_id, "CASH", BalanceUpdate("LIMITED_POSTPAID", -300))
    assert _charge(ws, subscriber, CASH=300) is ChargeOutcome.CHARGED
    error = _unchanged(ws, update, admin, wallet_id, "CASH", BalanceUpdate("PREPAID"))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "limit_type")
    ws.wallets.top_up(admin, wallet_id, "CASH", 300)
    view = update(admin, wallet_id, "CASH", BalanceUpdate("PREPAID"))
    cash = next(b for b in view.balances if b.balance_type == "CASH")
    assert (cash.limit_type, cash.minimum_credit) == (LimitType.PREPAID, None)


def test_buckets_add_edit_delete_with_offsets_and_the_maximum(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    _, wallet_id = _active(ws, admin)
    now = clock.now()
    add = ws.wallets.add_bucket
    first = add(admin, wallet_id, "DATA", 300)
    assert (first.outcome, first.accepted, first.dropped) == (CreditOutcome.ACCEPTED, 300, 0)
    # A bucket that starts later is outside the maximum check, before and after it is added.
    offset = add(admin, wallet_id, "DATA", 900, now + timedelta(days=1), now + timedelta(days=9))
    assert offset.accepted == 900
    capped = add(admin, wallet_id, "DATA", 800)
    assert (capped.outcome, capped.accepted, capped.dropped) == (CreditOutcome.LIMITED, 700, 100)
    assert capped.edr.detail["dropped"] == 100
    assert _balances(ws.wallets.get_wallet(admin, wallet_id))["DATA"] == (1900, 1000)

    bucket_id = first.edr.detail["bucket"]
    assert isinstance(bucket_id, int)
    edited = ws.wallets.edit_bucket(admin, wallet_id, bucket_id, BucketEdit(value=50))
    assert [(b.old_value, b.delta_value, b.new_value) for b in edited.edr.balances] == [
        (1900, -250, 1650)
    ]
    grown = ws.wallets.edit_bucket(admin, wallet_id, bucket_id, BucketEdit(value=400))
    assert (grown.outcome, grown.accepted, grown.dropped) == (CreditOutcome.LIMITED, 250, 100)
    removed = ws.wallets.delete_bucket(admin, wallet_id, bucket_id)
    assert [(b.old_value, b.new_value) for b in removed.balances] == [(1900, 1600)]

    bad = [
        (("DATA", 5, now + timedelta(days=3), now + timedelta(days=2)), "start_at"),
        (("DATA", 5, now + timedelta(days=2), now + timedelta(days=2)), "start_at"),
        (("DATA", 5, now - timedelta(days=1), None), "start_at"),
        (("DATA", 5, None, now), "expires_at"),
        (("DATA", -5, None, None), "value"),
        (("NOPE", 5, None, None), "balance_type"),
    ]
    for args, field in bad:
        error = _unchanged(ws, add, admin, wallet_id, *args)
        assert error.field == field, (args, error)
    error = _unchanged(ws, add, admin, wallet_id, "SMS", 150)
    assert (error.kind, error.field) == (ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "value")
    error = _unchanged(
        ws, ws.wallets.edit_bucket, admin, wallet_id, offset.edr.detail["bucket"],
        BucketEdit(expires_at=now + timedelta(hours=1)),
    )  # fmt: skip
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "start_at")
    error = _unchanged(ws, ws.wallets.edit_bucket, admin, wallet_id, 10**9, BucketEdit(value=1))
    assert error.kind is ProblemKind.NOT_FOUND


def test_expiry_processing_removes_expired_value_with_an_edr(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber, wallet_id = _active(ws, admin)
    ws.wallets.top_up(admin, wallet_id, "CASH", 300, expires_at=clock.now() + timedelta(days=1))
    ws.wallets.top_up(admin, wallet_id, "CASH", 200)
    clock.advance(2 * DAY_S)
    assert _balances(ws.wallets.get_wallet(admin, wallet_id))["CASH"] == (500, 200)
    assert ws.wallets.expire_buckets(admin) == 1
    assert ws.wallets.expire_buckets(admin) == 0
    assert _balances(ws.wallets.get_wallet(admin, wallet_id))["CASH"] == (200, 200)
    page = ws.edrs.search(admin, EdrQuery(subscriber_id=subscriber, types=frozenset(
        {EdrType.EXPIRY})))  # fmt: skip
    [expiry] = [hit.edr for hit in page.items]
    assert (expiry.operator, expiry.at) == (None, clock.now())
    assert [(b.old_value, b.delta_value, b.new_value) for b in expiry.balances] == [
        (500, -300, 200)
    ]


# -- credits -------------------------------------------------------------------------------------


def test_top_up_under_each_maximum_balance_policy(ws: Services, admin: Actor) -> None:
    _, wallet_id = _active(ws, admin)
    top_up = ws.wallets.top_up
    assert top_up(admin, wallet_id, "DATA", 800).accepted == 800
    limited = top_up(admin, wallet_id, "DATA", 500)
    assert (limited.outcome, limited.accepted, limited.dropped) == (
        CreditOutcome.LIMITED, 200, 300,
    )  # fmt: skip
    assert [(b.delta_value, b.new_value) for b in limited.edr.balances] == [(200, 1000)]
    assert limited.edr.detail == {"dropped": 300}
    full = top_up(admin, wallet_id, "DATA", 10)
    assert (full.accepted, full.dropped, full.edr.balances[0].delta_value) == (0, 10, 0)

    assert top_up(admin, wallet_id, "SMS", 60).outcome is CreditOutcome.ACCEPTED
    error = _unchanged(ws, top_up, admin, wallet_id, "SMS", 50)
    assert (error.kind, error.field) == (ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "amount")
    for amount, field in ((0, "amount"), (-5, "amount"), (True, "amount")):
        error = _unchanged(ws, top_up, admin, wallet_id, "SMS", amount)
        assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, field)


def test_adjustments_within_product_type_or_operator_limits(ws: Services, admin: Actor) -> None:
    _, wallet_id = _active(ws, admin)
    adjust = ws.wallets.adjust
    for balance_type, amount, field in (
        ("CASH", 10001, "amount"), ("CASH", -5001, "amount"), ("DATA", -10, "amount"),
        ("BONUS", 10, "balance_type"),
    ):  # fmt: skip
        error = _unchanged(ws, adjust, admin, wallet_id, balance_type, amount)
        assert (error.kind, error.field) == (ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS, field)
    error = _unchanged(ws, adjust, admin, wallet_id, "DATA", -10)
    assert error.detail == "negative adjustments are not allowed: the minimum is 0"
    assert adjust(admin, wallet_id, "CASH", 500).edr.type is EdrType.ADJUSTMENT
    assert adjust(admin, wallet_id, "CASH", -200).edr.balances[0].new_value == 300
    error = _unchanged(ws, adjust, admin, wallet_id, "SMS", 200)
    assert (error.kind, error.field) == (ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "amount")

    ws.operators.create(admin, "clerk", "clerk-password-1", Role.READ_MODIFY.value)
    clerk = Actor("clerk", ROLE_PRIVILEGES[Role.READ_MODIFY])
    ws.wallet_settings.set_adjustment_limits(admin, PRODUCT, "CASH", 0, 100, operator="clerk")
    error = _unchanged(ws, adjust, clerk, wallet_id, "CASH", 150)  # the clerk's own limits win
    assert error.field == "amount"
    error = _unchanged(ws, adjust, clerk, wallet_id, "CASH", -10)
    assert error.kind is ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS
    assert adjust(clerk, wallet_id, "CASH", 100).edr.operator == "clerk"
    error = _refused(
        ws.wallet_settings.set_adjustment_limits, admin, PRODUCT, "CASH", 0, 1, "ghost"
    )
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "operator")
    error = _refused(ws.wallet_settings.set_adjustment_limits, admin, PRODUCT, "CASH", 5, 1)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "minimum")
    rules = ws.wallet_settings.adjustment_limits(admin, PRODUCT)
    assert [(r.balance_type, r.operator) for r in rules][:2] == [("CASH", None), ("CASH", "clerk")]


def test_operators_need_the_privilege_and_the_provider(ws: Services, admin: Actor) -> None:
    _, wallet_id = _active(ws, admin)
    reader = Actor("reader", ROLE_PRIVILEGES[Role.READ_ONLY])
    error = _unchanged(ws, ws.wallets.top_up, reader, wallet_id, "CASH", 5)
    assert error.kind is ProblemKind.FORBIDDEN
    outsider = Actor("outsider", ROLE_PRIVILEGES[Role.ADMIN], frozenset({OTHER_PROVIDER}))
    assert _refused(ws.wallets.get_wallet, outsider, wallet_id).kind is ProblemKind.NOT_FOUND


# -- merge -------------------------------------------------------------------------------------


def _merge_pair(services: Services, admin: Actor, clock: FakeClock) -> tuple[int, int, int, int]:
    """Target (subscriber, wallet) and source (subscriber, wallet) with buckets of each kind."""
    now = clock.now()
    target_sub, target = _active(services, admin)
    source_sub, source = _active(services, admin)
    add = services.wallets.add_bucket
    add(admin, target, "CASH", 1000)
    add(admin, target, "CASH", 100, None, now + timedelta(days=5))
    add(admin, target, "DATA", 200, None, now + timedelta(days=3))
    add(admin, source, "CASH", 500)
    add(admin, source, "CASH", 50, None, now + timedelta(days=8))
    add(admin, source, "DATA", 300, None, now + timedelta(days=6))
    add(admin, source, "VOICE", 60, now + timedelta(days=1))
    services.wallets.update_wallet(admin, target, WalletUpdate(expires_at=now + timedelta(10)))
    services.wallets.update_wallet(admin, source, WalletUpdate(expires_at=now + timedelta(20)))
    return target_sub, target, source_sub, source


def test_merge_best_expiry_and_merged_buckets_then_both_share_the_target(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    target_sub, target, source_sub, source = _merge_pair(ws, admin, clock)
    ws.wallets.change_state(admin, target, "SUSPENDED")
    now = clock.now()
    view = ws.wallets.merge(admin, MergeRequest(source_sub, target_sub))
    assert (view.wallet.id, view.wallet.state) == (target, WalletState.SUSPENDED)
    assert view.wallet.expires_at == now + timedelta(days=20)
    assert _buckets(view, "CASH") == [(1500, None, None), (150, None, now + timedelta(days=8))]
    assert _buckets(view, "DATA") == [(500, None, now + timedelta(days=6))]
    assert _buckets(view, "VOICE") == [(60, now + timedelta(days=1), None)]
    assert {(link.subscriber_id, link.wallet_type) for link in view.links} == {
        (target_sub, WalletType.PRIMARY), (source_sub, WalletType.PRIMARY),
    }  # fmt: skip
    assert _refused(ws.wallets.get_wallet, admin, source).kind is ProblemKind.NOT_FOUND
    assert wallet_of(ws, admin, source_sub) == target
    merges = ws.edrs.search(admin, EdrQuery(subscriber_id=target_sub, types=frozenset(
        {EdrType.MERGE})))  # fmt: skip
    [into_target] = [hit.edr for hit in merges.items]
    assert [(b.balance_type, b.old_value, b.new_value) for b in into_target.balances] == [
        ("CASH", 1100, 1650), ("DATA", 200, 500), ("VOICE", 0, 60),
    ]  # fmt: skip
    assert HistoryEvent.MERGED in [h.event for h in ws.wallets.history(admin, target)]


def test_merge_move_policy_keeps_dates_and_ignore_keeps_the_target_expiry(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    target_sub, target, source_sub, _ = _merge_pair(ws, admin, clock)
    now = clock.now()
    request = MergeRequest(source_sub, target_sub, expiry_policy="IGNORE", bucket_policy="MOVE")
    view = ws.wallets.merge(admin, request)
    assert (view.wallet.id, view.wallet.expires_at) == (target, now + timedelta(days=10))
    assert _buckets(view, "CASH") == [
        (1500, None, None), (100, None, now + timedelta(days=5)),
        (50, None, now + timedelta(days=8)),
    ]  # fmt: skip
    assert _buckets(view, "DATA") == [
        (200, None, now + timedelta(days=3)), (300, None, now + timedelta(days=6)),
    ]  # fmt: skip


def test_a_pre_use_source_is_activated_with_its_bonus_before_the_merge(
    ws: Services, admin: Actor
) -> None:
    ws.wallet_settings.set_activation_credit(admin, PRODUCT, "VOICE", 100)
    target_sub, target = _active(ws, admin)  # activation gives the target 100 VOICE too
    source_sub = new_subscriber(ws, admin)
    source = wallet_of(ws, admin, source_sub)
    view = ws.wallets.merge(admin, MergeRequest(source_sub, target_sub))
    assert _balances(view)["VOICE"] == (200, 200)
    with ws.engine.connect() as conn:
        types = list(conn.scalars(
            sa.select(t.edrs.c.type).where(t.edrs.c.wallet_id == source).order_by(t.edrs.c.id)
        ))  # fmt: skip
    assert types == ["WALLET_CREATED", "ACTIVATION", "MERGE"]
    assert view.wallet.id == target


def test_merge_into_a_missing_secondary_shares_the_source_wallet(
    ws: Services, admin: Actor
) -> None:
    target_sub, _ = _active(ws, admin)
    source_sub, source = _active(ws, admin)
    ws.wallets.change_state(admin, source, "SUSPENDED")
    request = MergeRequest(source_sub, target_sub, target_wallet_type="SECONDARY")
    view = ws.wallets.merge(admin, request)
    assert (view.wallet.id, view.wallet.state) == (source, WalletState.SUSPENDED)
    assert wallet_of(ws, admin, target_sub, "SECONDARY") == source
    assert wallet_of(ws, admin, source_sub, "PRIMARY") == source

    # Now both subscribers hold that wallet: merging it into itself is refused.
    again = MergeRequest(source_sub, target_sub, target_wallet_type="SECONDARY")
    error = _unchanged(ws, ws.wallets.merge, admin, again)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "source_wallet_type")
    error = _unchanged(ws, ws.wallets.merge, admin, MergeRequest(source_sub, source_sub))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "source_wallet_type")
    own_secondary = MergeRequest(source_sub, source_sub, "PRIMARY", "SECONDARY")
    error = _unchanged(ws, ws.wallets.merge, admin, own_secondary)
    assert (error.kind, error.field) == (ProblemKind.NOT_FOUND, "target_wallet_type")


def test_merge_consolidates_a_subscribers_secondary_into_its_primary(
    ws: Services, admin: Actor
) -> None:
    subscriber, primary = _active(ws, admin)
    secondary = ws.wallets.create_wallet(admin, subscriber, "SECONDARY", WalletInput(PRODUCT))
    ws.wallets.top_up(admin, secondary.wallet.id, "CASH", 250)
    request = MergeRequest(subscriber, subscriber, source_wallet_type="SECONDARY")
    view = ws.wallets.merge(admin, request)
    assert view.links == [WalletLink(subscriber, WalletType.PRIMARY, primary)]
    assert _balances(view)["CASH"] == (250, 250)
    assert [v.wallet.id for v in ws.wallets.subscriber_wallets(admin, subscriber)] == [primary]


def test_merge_refuses_wallets_whose_state_forbids_it(ws: Services, admin: Actor) -> None:
    target_sub, target = _active(ws, admin)
    source_sub, _ = _active(ws, admin)
    ws.wallets.change_state(admin, target, "FROZEN")
    error = _unchanged(ws, ws.wallets.merge, admin, MergeRequest(source_sub, target_sub))
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    error = _unchanged(
        ws, ws.wallets.merge, admin, MergeRequest(source_sub, target_sub, bucket_policy="JOIN")
    )
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "bucket_policy")
