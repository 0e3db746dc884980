"""Pure voucher rules: validation, states, numbers and secrets, the blacklist count, and what a
voucher type does to buckets and the wallet's expiry."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.vouchers import (
    FAILED_RECHARGES_TO_BLACKLIST,
    SECRET_DIGITS,
    BatchState,
    BucketExpiry,
    RechargeFailure,
    Voucher,
    VoucherBalanceInput,
    VoucherBatch,
    VoucherState,
    after_failure,
    check_batch_size,
    check_batch_transition,
    check_charge_amount,
    check_secret,
    check_voucher_balances,
    check_voucher_transition,
    extended_wallet_expiry,
    failure_error,
    hash_secret,
    issue_vouchers,
    plan_extend,
    product_type_allowed,
    secret_matches,
    usable_error,
)
from ocs.core.wallets import Bucket

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def _error(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_voucher_balances_name_the_offending_field() -> None:
    ok = check_voucher_balances([VoucherBalanceInput(" CASH ", 5, "VALIDITY", 30)])
    assert ok[0].balance_type == "CASH"
    assert ok[0].expiry is BucketExpiry.VALIDITY
    cases = [
        ([VoucherBalanceInput("A", 0)], "balances[0].value"),
        ([VoucherBalanceInput("A", 1), VoucherBalanceInput("B", -3)], "balances[1].value"),
        ([VoucherBalanceInput("A", 1, "EXTEND")], "balances[0].validity_days"),
        ([VoucherBalanceInput("A", 1, "NONE", 3)], "balances[0].validity_days"),
        ([VoucherBalanceInput("A", 1, "VALIDITY", 0)], "balances[0].validity_days"),
        ([VoucherBalanceInput("A", 1, "VALIDITY", 3651)], "balances[0].validity_days"),
        ([VoucherBalanceInput("A", 1), VoucherBalanceInput("A", 2)], "balances[1].balance_type"),
        ([], "balances"),
    ]
    for balances, field in cases:
        assert _error(check_voucher_balances, balances).field == field


def test_batch_and_voucher_transitions() -> None:
    check_batch_transition(BatchState.CREATED, BatchState.ACTIVE)
    check_batch_transition(BatchState.ACTIVE, BatchState.FROZEN)
    check_batch_transition(BatchState.FROZEN, BatchState.ACTIVE)
    for current, target in [(BatchState.ACTIVE, BatchState.CREATED),
                            (BatchState.FROZEN, BatchState.CREATED)]:  # fmt: skip
        error = _error(check_batch_transition, current, target)
        assert error.kind is ProblemKind.INVALID_STATE_TRANSITION
    check_voucher_transition(VoucherState.AVAILABLE, VoucherState.FROZEN)
    for voucher_target in VoucherState:
        error = _error(check_voucher_transition, VoucherState.REDEEMED, voucher_target)
        assert error.field == "state"


def test_issued_vouchers_are_unique_and_secrets_hash_with_the_key() -> None:
    # A generator that repeats serial numbers at first: the batch still gets distinct ones.
    values = itertools.chain([7, 7, 7, 7], itertools.count(100))
    issued = issue_vouchers(42, 3, lambda _bound: next(values))
    assert [v.number for v in issued] == ["00000042000001", "00000042000002", "00000042000003"]
    assert len({v.serial_number for v in issued}) == 3
    assert all(len(v.secret) == SECRET_DIGITS for v in issued)
    stored = hash_secret(KEY, issued[0].number, issued[0].secret)
    assert issued[0].secret not in stored
    assert secret_matches(KEY, issued[0].number, issued[0].secret, stored)
    assert not secret_matches(b"other-key", issued[0].number, issued[0].secret, stored)
    # Bound to the number: the same secret on another voucher does not match.
    assert not secret_matches(KEY, issued[1].number, issued[0].secret, stored)
    assert _error(check_batch_size, 0).field == "size"
    assert _error(check_batch_size, 10_001).field == "size"


def test_secret_errors_never_repeat_the_secret() -> None:
    error = _error(check_secret, "12ab-secret")
    assert (error.field, "12ab" in error.detail) == ("secret", False)
    assert failure_error(RechargeFailure.UNKNOWN_VOUCHER).detail == (
        failure_error(RechargeFailure.WRONG_SECRET).detail
    )
    assert failure_error(RechargeFailure.REDEEMED).kind is ProblemKind.CONFLICT
    assert failure_error(RechargeFailure.WRONG_SERIAL).field == "serial_number"


def test_the_third_consecutive_failure_blacklists() -> None:
    count = after_failure(0, False)
    assert (count.failures, count.blacklisted) == (1, False)
    count = after_failure(FAILED_RECHARGES_TO_BLACKLIST - 1, False)
    assert (count.failures, count.blacklisted) == (3, True)
    assert after_failure(0, True).blacklisted  # stays blacklisted until cleared


def test_usable_error_checks_voucher_batch_state_and_expiry() -> None:
    batch = VoucherBatch(1, "T", "SP", 1, BatchState.ACTIVE, NOW + timedelta(days=1), NOW)
    voucher = Voucher(1, 1, "00000001000001", "1", VoucherState.AVAILABLE)
    assert usable_error(voucher, batch, NOW) is None
    frozen = Voucher(1, 1, "00000001000001", "1", VoucherState.FROZEN)
    assert "frozen" in str(usable_error(frozen, batch, NOW))
    created = VoucherBatch(1, "T", "SP", 1, BatchState.CREATED, NOW + timedelta(days=1), NOW)
    assert "CREATED" in str(usable_error(voucher, created, NOW))
    expired = usable_error(voucher, batch, NOW + timedelta(days=1))
    assert expired is not None
    assert expired.kind is ProblemKind.NOT_ALLOWED_IN_STATE


def test_extend_takes_the_latest_dated_bucket_and_keeps_the_later_expiry() -> None:
    soon, later = NOW + timedelta(days=5), NOW + timedelta(days=50)
    buckets = [
        Bucket(1, "V", 10, None, soon),
        Bucket(2, "V", 20, None, later),
        Bucket(3, "V", 30, None, None),
        Bucket(4, "X", 40, None, later + timedelta(days=1)),
    ]
    [change] = plan_extend(buckets, "V", 7, NOW + timedelta(days=30), NOW)
    assert (change.bucket.id, change.delta, change.expires_at) == (2, 7, later)
    [change] = plan_extend(buckets, "V", 7, NOW + timedelta(days=90), NOW)
    assert change.expires_at == NOW + timedelta(days=90)
    [fresh] = plan_extend(buckets, "Y", 7, NOW + timedelta(days=9), NOW)
    assert (fresh.bucket.id, fresh.new_value, fresh.expires_at) == (0, 7, NOW + timedelta(days=9))


def test_wallet_expiry_extension_counts_from_the_later_of_expiry_and_now() -> None:
    assert extended_wallet_expiry(NOW + timedelta(days=3), NOW, 10) == NOW + timedelta(days=13)
    assert extended_wallet_expiry(NOW - timedelta(days=3), NOW, 10) == NOW + timedelta(days=10)
    assert extended_wallet_expiry(None, NOW, 10) is None
    assert extended_wallet_expiry(NOW, NOW, None) == NOW


def test_product_types_and_charge_amounts() -> None:
    assert product_type_allowed((), "ANY")
    assert product_type_allowed(("A", "B"), "B")
    assert not product_type_allowed(("A",), "B")
    assert check_charge_amount(1) == 1
    for bad in (0, -5, True, 2**63):
        assert _error(check_charge_amount, bad).field == "charge_amount"
