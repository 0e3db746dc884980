"""Vouchers on SQLite and PostgreSQL: types, batches and their states, recharges with every
refusal, the failed-recharge blacklist and concurrent redemption. After every test each balance
equals its EDR sum."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.edr import EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.vouchers import BatchState, IssuedVoucher, VoucherBalanceInput, VoucherState
from ocs.core.wallets import CreditOutcome
from ocs.service.actor import Actor
from ocs.service.vouchers import BatchInput, RechargeRequest, RechargeResult, VoucherTypeInput
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import WalletUpdate
from ocs.storage import tables as t
from ocs.storage import voucher_tables as v
from tests.support.catalog import PROVIDER
from tests.support.clock import FakeClock
from tests.support.vouchers import (
    OTHER_PRODUCT,
    TOPUP,
    TOPUP_CASH,
    TOPUP_VOICE_S,
    active_batch,
    load_voucher_catalog,
    one_voucher,
    voucher_type,
)
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    ledger_fingerprint,
    new_subscriber,
    wallet_of,
)

DAY_S = 86400


@pytest.fixture
def vs(services: Services, admin: Actor) -> Iterator[Services]:
    load_voucher_catalog(services, admin)
    yield services
    assert_balances_explained(services)


def _refused(call: Callable[..., object], *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


def _recharge(
    services: Services,
    admin: Actor,
    subscriber_id: int,
    voucher: IssuedVoucher,
    secret: str | None = None,
    serial: str | None = None,
) -> RechargeResult:
    request = RechargeRequest(
        voucher.number, voucher.secret if secret is None else secret, subscriber_id,
        serial_number=serial,
    )  # fmt: skip
    return services.vouchers.recharge(admin, request)


def _balance(services: Services, admin: Actor, subscriber_id: int, code: str) -> int:
    view = services.wallets.get_wallet(admin, wallet_of(services, admin, subscriber_id))
    return next((b.total_value for b in view.balances if b.balance_type == code), 0)


def _wrong(secret: str) -> str:
    return ("1" if secret[0] != "1" else "2") + secret[1:]


# -- types and batches ---------------------------------------------------------------------------


def test_voucher_type_validation_names_the_field(vs: Services, admin: Actor) -> None:
    def attempt(balances: list[VoucherBalanceInput], **fields: object) -> DomainError:
        inp = VoucherTypeInput("BAD", "Bad", PROVIDER, balances, **fields)  # type: ignore[arg-type]
        return _refused(vs.vouchers.create_type, admin, inp)

    error = attempt([VoucherBalanceInput("NOPE", 10)])
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "balances[0].balance_type")
    error = attempt([VoucherBalanceInput("CASH", 10), VoucherBalanceInput("DATA", -5)])
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "balances[1].value")
    error = attempt([VoucherBalanceInput("CASH", 10, "VALIDITY")])
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "balances[0].validity_days")
    error = attempt([VoucherBalanceInput("CASH", 10, "SOMETIMES", 3)])
    assert error.field == "balances[0].expiry"
    error = attempt([VoucherBalanceInput("CASH", 10)], product_type_swap="NOPE")
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "product_type_swap")
    error = attempt([VoucherBalanceInput("CASH", 10)], wallet_expiry_extension_days=0)
    assert error.field == "wallet_expiry_extension_days"
    error = attempt([])
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "balances")
    duplicate = VoucherTypeInput(TOPUP, "Again", PROVIDER, [VoucherBalanceInput("CASH", 1)])
    assert _refused(vs.vouchers.create_type, admin, duplicate).kind is ProblemKind.DUPLICATE


def test_voucher_type_update_keeps_code_and_delete_refused_while_in_use(
    vs: Services, admin: Actor
) -> None:
    inp = VoucherTypeInput(TOPUP, "Renamed", PROVIDER, [VoucherBalanceInput("BONUS", 7)])
    updated = vs.vouchers.update_type(admin, TOPUP, inp)
    assert (updated.name, updated.balances[0].balance_type) == ("Renamed", "BONUS")
    assert vs.vouchers.get_type(admin, TOPUP).balances == updated.balances
    moved = VoucherTypeInput("OTHER", "Renamed", PROVIDER, [VoucherBalanceInput("BONUS", 7)])
    assert _refused(vs.vouchers.update_type, admin, TOPUP, moved).kind is (
        ProblemKind.IMMUTABLE_FIELD
    )
    active_batch(vs, admin)
    assert _refused(vs.vouchers.delete_type, admin, TOPUP).kind is ProblemKind.IN_USE
    voucher_type(vs, admin, "SPARE", [VoucherBalanceInput("CASH", 1)])
    vs.vouchers.delete_type(admin, "SPARE")
    assert [t.code for t in vs.vouchers.list_types(admin)] == [TOPUP]


def test_batch_generation_states_and_lookup(vs: Services, admin: Actor, clock: FakeClock) -> None:
    expires = clock.now() + timedelta(days=90)
    created = vs.vouchers.create_batch(admin, BatchInput(TOPUP, 5, expires))
    assert created.batch.state is BatchState.CREATED
    numbers = {voucher.number for voucher in created.vouchers}
    serials = {voucher.serial_number for voucher in created.vouchers}
    assert len(numbers) == len(serials) == 5
    assert all(len(voucher.secret) == 20 for voucher in created.vouchers)
    with vs.engine.connect() as conn:
        hashes = list(conn.scalars(sa.select(v.vouchers.c.secret_hash)))
    assert len(hashes) == 5
    assert not {voucher.secret for voucher in created.vouchers} & set(hashes)

    looked_up = vs.vouchers.get_voucher(admin, created.vouchers[0].number)
    assert (looked_up.state, looked_up.serial_number) == (
        VoucherState.AVAILABLE, created.vouchers[0].serial_number,
    )  # fmt: skip
    assert not hasattr(looked_up, "secret")
    batch_id = created.batch.id
    error = _refused(vs.vouchers.change_batch_state, admin, batch_id, "CREATED")
    assert error.kind is ProblemKind.INVALID_STATE_TRANSITION
    assert vs.vouchers.change_batch_state(admin, batch_id, "ACTIVE").batch.state is (
        BatchState.ACTIVE
    )
    view = vs.vouchers.change_batch_state(admin, batch_id, "FROZEN")
    assert (view.batch.state, view.counts[VoucherState.AVAILABLE]) == (BatchState.FROZEN, 5)
    assert [b.batch.id for b in vs.vouchers.list_batches(admin, TOPUP)] == [batch_id]

    past = BatchInput(TOPUP, 1, clock.now() - timedelta(seconds=1))
    assert _refused(vs.vouchers.create_batch, admin, past).field == "expires_at"
    assert _refused(vs.vouchers.create_batch, admin, BatchInput(TOPUP, 0, expires)).field == "size"
    unknown = BatchInput("NOPE", 1, expires)
    assert _refused(vs.vouchers.create_batch, admin, unknown).field == "voucher_type"


# -- recharge ------------------------------------------------------------------------------------


def test_recharge_credits_the_voucher_type_once(
    vs: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber = new_subscriber(vs, admin)
    wallet_id = wallet_of(vs, admin, subscriber)
    vs.wallets.update_wallet(
        admin, wallet_id, WalletUpdate(expires_at=clock.now() + timedelta(days=10))
    )
    voucher = one_voucher(vs, admin)

    result = _recharge(vs, admin, subscriber, voucher)

    assert result.voucher.state is VoucherState.REDEEMED
    assert (result.voucher.redeemed_by, result.voucher.redeemed_at) == (subscriber, clock.now())
    edr = result.applied.edr
    assert edr.type is EdrType.RECHARGE
    tags = dict(edr.tags)
    assert (tags["VOUCHER"], tags["VOUCHER_TYPE"]) == (voucher.number, TOPUP)
    assert tags["BATCH"] == str(vs.vouchers.get_voucher(admin, voucher.number).batch_id)
    assert {line.balance_type: line.delta_value for line in edr.balances} == {
        "CASH": TOPUP_CASH, "VOICE": TOPUP_VOICE_S,
    }  # fmt: skip
    view = vs.wallets.get_wallet(admin, wallet_id)
    voice = next(b for b in view.balances if b.balance_type == "VOICE")
    assert [b.expires_at for b in voice.buckets] == [clock.now() + timedelta(days=30)]
    assert view.wallet.expires_at == clock.now() + timedelta(days=40)
    assert vs.vouchers.get_voucher(admin, voucher.number).state is VoucherState.REDEEMED

    before = ledger_fingerprint(vs)
    error = _refused(_recharge, vs, admin, subscriber, voucher)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "voucher_number")
    assert ledger_fingerprint(vs) == before
    assert _balance(vs, admin, subscriber, "CASH") == TOPUP_CASH


def test_recharge_by_msisdn(vs: Services, admin: Actor) -> None:
    subscriber = new_subscriber(vs, admin)
    with vs.store.transaction() as uow:
        found = uow.casm.get_subscriber(subscriber)
        assert found is not None
        msisdn = found.subscriber_id
    voucher = one_voucher(vs, admin)
    request = RechargeRequest(voucher.number, voucher.secret, msisdn=msisdn)
    assert vs.vouchers.recharge(admin, request).voucher.redeemed_by == subscriber
    unknown = RechargeRequest(voucher.number, voucher.secret, msisdn="999")
    assert _refused(vs.vouchers.recharge, admin, unknown).field == "msisdn"


@pytest.mark.parametrize("case", ["created", "frozen-batch", "expired-batch", "frozen-voucher"])
def test_unusable_vouchers_are_refused_without_counting(
    vs: Services, admin: Actor, clock: FakeClock, case: str
) -> None:
    subscriber = new_subscriber(vs, admin)
    expires = clock.now() + timedelta(days=1)
    created = vs.vouchers.create_batch(admin, BatchInput(TOPUP, 1, expires))
    voucher = created.vouchers[0]
    if case != "created":
        vs.vouchers.change_batch_state(admin, created.batch.id, "ACTIVE")
    if case == "frozen-batch":
        vs.vouchers.change_batch_state(admin, created.batch.id, "FROZEN")
    if case == "expired-batch":
        clock.advance(DAY_S)
    if case == "frozen-voucher":
        frozen = vs.vouchers.change_voucher_state(admin, voucher.number, "FROZEN")
        assert frozen.state is VoucherState.FROZEN
    before = ledger_fingerprint(vs)
    for _ in range(3):
        error = _refused(_recharge, vs, admin, subscriber, voucher)
        assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "voucher_number")
    assert ledger_fingerprint(vs) == before
    blacklist = vs.vouchers.blacklist(admin, subscriber)
    assert (blacklist.blacklisted, blacklist.consecutive_failures) == (False, 0)


def test_three_failures_blacklist_then_only_the_serial_number_helps(
    vs: Services, admin: Actor
) -> None:
    subscriber = new_subscriber(vs, admin)
    used, voucher, spare = active_batch(vs, admin).vouchers
    _recharge(vs, admin, subscriber, used)
    unknown = IssuedVoucher("99999999999999", used.serial_number, used.secret)

    error = _refused(_recharge, vs, admin, subscriber, voucher, _wrong(voucher.secret))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "secret")
    assert voucher.secret not in error.detail
    assert _refused(_recharge, vs, admin, subscriber, unknown).field == "secret"
    assert vs.vouchers.blacklist(admin, subscriber).consecutive_failures == 2
    assert not vs.vouchers.blacklist(admin, subscriber).blacklisted
    assert _refused(_recharge, vs, admin, subscriber, used).kind is ProblemKind.CONFLICT

    blacklist = vs.vouchers.blacklist(admin, subscriber)
    assert (blacklist.blacklisted, blacklist.consecutive_failures) == (True, 3)
    assert vs.features.subscribers.get_details(admin, subscriber).blacklisted
    error = _refused(_recharge, vs, admin, subscriber, voucher)
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "serial_number")
    error = _refused(_recharge, vs, admin, subscriber, voucher, None, spare.serial_number)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "serial_number")
    assert vs.vouchers.get_voucher(admin, voucher.number).state is VoucherState.AVAILABLE

    result = _recharge(vs, admin, subscriber, voucher, None, voucher.serial_number)
    assert result.voucher.state is VoucherState.REDEEMED
    blacklist = vs.vouchers.blacklist(admin, subscriber)
    assert (blacklist.blacklisted, blacklist.consecutive_failures) == (True, 0)
    cleared = vs.vouchers.clear_blacklist(admin, subscriber)
    assert (cleared.blacklisted, cleared.consecutive_failures) == (False, 0)
    assert _recharge(vs, admin, subscriber, spare).voucher.state is VoucherState.REDEEMED
    assert _balance(vs, admin, subscriber, "CASH") == 3 * TOPUP_CASH


def test_a_success_resets_the_failure_count(vs: Services, admin: Actor) -> None:
    subscriber = new_subscriber(vs, admin)
    first, second, third = active_batch(vs, admin).vouchers
    for _ in range(2):
        _refused(_recharge, vs, admin, subscriber, first, _wrong(first.secret))
    _recharge(vs, admin, subscriber, second)
    for _ in range(2):
        _refused(_recharge, vs, admin, subscriber, first, _wrong(first.secret))
    blacklist = vs.vouchers.blacklist(admin, subscriber)
    assert (blacklist.blacklisted, blacklist.consecutive_failures) == (False, 2)
    _recharge(vs, admin, subscriber, third)
    assert vs.vouchers.blacklist(admin, subscriber).consecutive_failures == 0


def test_maximum_balance_limit_drops_the_excess_and_reject_refuses_the_voucher(
    vs: Services, admin: Actor
) -> None:
    voucher_type(vs, admin, "DATA800", [VoucherBalanceInput("DATA", 800)])
    voucher_type(vs, admin, "SMS80", [VoucherBalanceInput("SMS", 80)])
    subscriber = new_subscriber(vs, admin)
    first, second = active_batch(vs, admin, "DATA800", size=2).vouchers
    _recharge(vs, admin, subscriber, first)
    limited = _recharge(vs, admin, subscriber, second)
    [credit] = limited.applied.credits
    assert (credit.outcome, credit.accepted, credit.dropped) == (CreditOutcome.LIMITED, 200, 600)
    assert limited.applied.edr.detail["dropped"] == {"DATA": 600}
    assert _balance(vs, admin, subscriber, "DATA") == 1000

    sms_first, sms_second = active_batch(vs, admin, "SMS80", size=2).vouchers
    _recharge(vs, admin, subscriber, sms_first)
    before = ledger_fingerprint(vs)
    error = _refused(_recharge, vs, admin, subscriber, sms_second)
    assert (error.kind, error.field) == (ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "voucher_number")
    assert ledger_fingerprint(vs) == before
    assert vs.vouchers.get_voucher(admin, sms_second.number).state is VoucherState.AVAILABLE


def test_wallet_state_and_limit_type_decide_whether_a_voucher_applies(
    vs: Services, admin: Actor
) -> None:
    single = new_subscriber(vs, admin, WalletInput(product_type=PRODUCT, limit_type="SINGLE_USE"))
    voucher = one_voucher(vs, admin)
    error = _refused(_recharge, vs, admin, single, voucher)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    assert "SINGLE_USE" in error.detail

    subscriber = new_subscriber(vs, admin)
    wallet_id = wallet_of(vs, admin, subscriber)
    vs.wallets.change_state(admin, wallet_id, "ACTIVE")
    vs.wallets.change_state(admin, wallet_id, "FROZEN")
    before = ledger_fingerprint(vs)
    error = _refused(_recharge, vs, admin, subscriber, voucher)
    assert error.kind is ProblemKind.NOT_ALLOWED_IN_STATE
    assert ledger_fingerprint(vs) == before
    vs.wallets.change_state(admin, wallet_id, "SUSPENDED")
    assert _recharge(vs, admin, subscriber, voucher).voucher.state is VoucherState.REDEEMED
    assert _balance(vs, admin, subscriber, "CASH") == TOPUP_CASH
    assert vs.vouchers.blacklist(admin, single).consecutive_failures == 0


def test_product_types_swap_and_extend_existing_bucket(
    vs: Services, admin: Actor, clock: FakeClock
) -> None:
    voucher_type(
        vs, admin, "ONLY2", [VoucherBalanceInput("CASH", 100)],
        allowed_product_types=[OTHER_PRODUCT],
    )  # fmt: skip
    voucher_type(
        vs, admin, "SWAP", [VoucherBalanceInput("VOICE", 60, "EXTEND", 10)],
        product_type_swap=OTHER_PRODUCT, allowed_product_types=[PRODUCT],
    )  # fmt: skip
    voucher_type(vs, admin, "EXT30", [VoucherBalanceInput("VOICE", 5, "EXTEND", 30)])
    subscriber = new_subscriber(vs, admin)
    wallet_id = wallet_of(vs, admin, subscriber)
    only2 = one_voucher(vs, admin, "ONLY2")
    error = _refused(_recharge, vs, admin, subscriber, only2)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "product_type")

    day20 = clock.now() + timedelta(days=20)
    vs.wallets.add_bucket(admin, wallet_id, "VOICE", 30, None, day20)
    result = _recharge(vs, admin, subscriber, one_voucher(vs, admin, "SWAP"))
    assert result.applied.product_type == OTHER_PRODUCT
    assert result.applied.edr.detail["product_type"] == {"from": PRODUCT, "to": OTHER_PRODUCT}
    # The existing bucket took the value and kept its later expiry (20 days > 10 days).
    assert _voice_buckets(vs, admin, wallet_id) == [(90, day20)]
    _recharge(vs, admin, subscriber, one_voucher(vs, admin, "EXT30"))
    assert _voice_buckets(vs, admin, wallet_id) == [(95, clock.now() + timedelta(days=30))]

    assert _recharge(vs, admin, subscriber, only2).voucher.state is VoucherState.REDEEMED
    swap_again = one_voucher(vs, admin, "SWAP")
    assert _refused(_recharge, vs, admin, subscriber, swap_again).field == "product_type"


def _voice_buckets(vs: Services, admin: Actor, wallet_id: int) -> list[tuple[int, object]]:
    view = vs.wallets.get_wallet(admin, wallet_id)
    voice = next(b for b in view.balances if b.balance_type == "VOICE")
    return [(b.value, b.expires_at) for b in voice.buckets]


def test_concurrent_redemption_credits_once(vs: Services, admin: Actor) -> None:
    subscribers = [new_subscriber(vs, admin), new_subscriber(vs, admin)]
    voucher = one_voucher(vs, admin)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def redeem(subscriber_id: int) -> None:
        barrier.wait()
        try:
            outcomes.append(_recharge(vs, admin, subscriber_id, voucher))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=redeem, args=(s,)) for s in subscribers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    successes = [o for o in outcomes if isinstance(o, RechargeResult)]
    failures = [o for o in outcomes if isinstance(o, DomainError)]
    assert (len(successes), len(failures)) == (1, 1)
    assert failures[0].kind is ProblemKind.CONFLICT
    assert sum(_balance(vs, admin, s, "CASH") for s in subscribers) == TOPUP_CASH
    with vs.engine.connect() as conn:
        recharges = conn.scalar(
            sa.select(sa.func.count()).select_from(t.edrs).where(t.edrs.c.type == "RECHARGE")
        )
    assert recharges == 1
