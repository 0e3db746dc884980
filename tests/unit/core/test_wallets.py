from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.configuration import MaximumBalancePolicy
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.wallets import (
    AdjustmentLimits,
    Bucket,
    BucketChange,
    BucketPolicy,
    CreditOutcome,
    ExpiryPolicy,
    LimitType,
    WalletAction,
    WalletState,
    allowed_limit_types,
    available_value,
    balance_floor,
    change,
    check_adjustment,
    check_adjustment_limits,
    check_amount,
    check_bucket_dates,
    check_limit_type,
    check_minimum_credit,
    check_permitted,
    check_reference,
    check_wallet_transition,
    consumption_order,
    decide_credit,
    effective_limits,
    generated_reference,
    merged_expiry,
    new_bucket,
    parse_enum,
    permitted,
    plan_bucket_merge,
    plan_credit,
    plan_debit,
    total_value,
)
from tests.support.buckets import apply_changes

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def _error(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def _deltas(changes: list[BucketChange] | None) -> list[tuple[int, int]]:
    assert changes is not None
    return [(c.bucket.id, c.delta) for c in changes]


# -- states and permissions --------------------------------------------------------------------

S, A = WalletState, WalletAction
DEFAULTS = {
    S.PRE_USE: "CRAM", S.ACTIVE: "CRAM", S.DORMANT: "CRAM", S.SUSPENDED: "RAM", S.FROZEN: "A",
    S.TERMINATED: "",
}  # fmt: skip


@pytest.mark.parametrize("state", list(WalletState))
@pytest.mark.parametrize("action", list(WalletAction))
def test_the_default_permission_matrix(state: WalletState, action: WalletAction) -> None:
    assert permitted(state, action, {}) is (action.value[0] in DEFAULTS[state])


def test_a_product_type_overrides_single_cells_both_ways() -> None:
    overrides = {(S.SUSPENDED, A.CHARGE): True, (S.ACTIVE, A.RECHARGE): False}
    assert permitted(S.SUSPENDED, A.CHARGE, overrides)
    assert not permitted(S.ACTIVE, A.RECHARGE, overrides)
    assert permitted(S.ACTIVE, A.CHARGE, overrides)
    error = _error(check_permitted, S.ACTIVE, A.RECHARGE, overrides)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    assert error.detail == "a ACTIVE wallet does not allow RECHARGE"


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [(S.PRE_USE, S.ACTIVE, True), (S.PRE_USE, S.SUSPENDED, False), (S.ACTIVE, S.DORMANT, True),
     (S.DORMANT, S.ACTIVE, True), (S.SUSPENDED, S.ACTIVE, True), (S.FROZEN, S.DORMANT, False),
     (S.FROZEN, S.ACTIVE, True), (S.ACTIVE, S.PRE_USE, False), (S.ACTIVE, S.ACTIVE, False),
     (S.TERMINATED, S.ACTIVE, False), (S.ACTIVE, S.TERMINATED, True)],
)  # fmt: skip
def test_wallet_state_transitions(current: WalletState, target: WalletState, allowed: bool) -> None:
    if allowed:
        check_wallet_transition(current, target)
    else:
        error = _error(check_wallet_transition, current, target)
        assert (error.kind, error.field) == (ProblemKind.INVALID_STATE_TRANSITION, "state")


def test_parse_enum_names_the_field_and_the_choices() -> None:
    assert parse_enum(LimitType, "POSTPAID", "limit_type") is LimitType.POSTPAID
    error = _error(parse_enum, LimitType, "CREDIT", "limit_type")
    assert error.field == "limit_type"
    assert "PREPAID, SINGLE_USE, POSTPAID, LIMITED_POSTPAID" in error.detail


# -- limit types ---------------------------------------------------------------------------------


def test_limit_type_options_follow_default_balance_and_allow_credit() -> None:
    assert allowed_limit_types(True, False) == tuple(LimitType)
    assert allowed_limit_types(False, True) == (LimitType.PREPAID, LimitType.LIMITED_POSTPAID)
    assert allowed_limit_types(False, False) == (LimitType.PREPAID,)
    check_limit_type(LimitType.SINGLE_USE, True, False)
    error = _error(check_limit_type, LimitType.POSTPAID, False, True)
    assert (error.field, error.detail) == (
        "limit_type", "limit_type must be one of PREPAID, LIMITED_POSTPAID for this balance type",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("limit_type", "minimum", "result", "kind"),
    [(LimitType.LIMITED_POSTPAID, -500, -500, None), (LimitType.LIMITED_POSTPAID, 0, 0, None),
     (LimitType.LIMITED_POSTPAID, None, None, ProblemKind.MISSING_FIELD),
     (LimitType.LIMITED_POSTPAID, 1, None, ProblemKind.INVALID_VALUE),
     (LimitType.PREPAID, None, None, None),
     (LimitType.POSTPAID, -1, None, ProblemKind.INVALID_VALUE)],
)  # fmt: skip
def test_minimum_credit_only_for_limited_postpaid(
    limit_type: LimitType, minimum: int | None, result: int | None, kind: ProblemKind | None
) -> None:
    if kind is None:
        assert check_minimum_credit(limit_type, minimum) == result
    else:
        error = _error(check_minimum_credit, limit_type, minimum)
        assert (error.kind, error.field) == (kind, "minimum_credit")


def test_balance_floors() -> None:
    assert balance_floor(LimitType.PREPAID, None) == 0
    assert balance_floor(LimitType.SINGLE_USE, None) == 0
    assert balance_floor(LimitType.POSTPAID, None) is None
    assert balance_floor(LimitType.LIMITED_POSTPAID, -300) == -300


@pytest.mark.parametrize("value", [True, 1.5, "5", 2**62 + 1, -(2**62) - 1, 0])
def test_amounts_are_bounded_integers(value: object) -> None:
    error = _error(check_amount, value, "amount")
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "amount")


def test_zero_amounts_only_where_allowed() -> None:
    assert check_amount(0, "value", allow_zero=True) == 0
    assert check_amount(-(2**62), "value") == -(2**62)


def test_references_and_generated_references() -> None:
    assert generated_reference(5) == "W0000000005"
    assert check_reference(" FAMILY-1 ") == "FAMILY-1"
    for bad in ("W0000000005", "", "-x", "a" * 33, "a b"):
        assert _error(check_reference, bad).field == "reference"


# -- buckets -------------------------------------------------------------------------------------


def test_bucket_availability_at_the_boundaries() -> None:
    starts_now = Bucket(1, "B", 5, start_at=NOW)
    expires_now = Bucket(2, "B", 5, expires_at=NOW)
    assert starts_now.is_available(NOW)
    assert not expires_now.is_available(NOW)
    assert not Bucket(3, "B", 5, start_at=days(1)).is_available(NOW)
    assert available_value([starts_now, expires_now], NOW) == 5
    assert total_value([starts_now, expires_now]) == 10


@pytest.mark.parametrize(
    ("start", "expiry", "field"),
    [(days(2), days(1), "start_at"), (days(1), days(1), "start_at"), (days(-1), None, "start_at"),
     (None, NOW, "expires_at"), (None, days(-1), "expires_at"),
     (datetime(2026, 2, 1), None, "start_at"), (None, datetime(2026, 2, 1), "expires_at")],
)  # fmt: skip
def test_bad_bucket_dates(start: datetime | None, expiry: datetime | None, field: str) -> None:
    error = _error(check_bucket_dates, start, expiry, NOW)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, field)


def test_good_bucket_dates() -> None:
    check_bucket_dates(NOW, days(1), NOW)
    check_bucket_dates(days(1), None, NOW)
    check_bucket_dates(None, None, NOW)


def test_consumption_order_is_earliest_expiry_first_and_never_expiring_last() -> None:
    buckets = [
        Bucket(1, "B", 10),
        Bucket(2, "B", 10, expires_at=days(30)),
        Bucket(3, "B", 10, expires_at=days(2)),
        Bucket(4, "B", 10, start_at=days(1)),  # not started
        Bucket(5, "B", 10, expires_at=days(-1)),  # expired
        Bucket(6, "B", 0, expires_at=days(1)),  # empty
        Bucket(7, "B", -5),  # debt
        Bucket(8, "B", 10, expires_at=days(2)),  # same expiry as 3: id breaks the tie
        Bucket(9, "B", 10),
    ]
    assert [b.id for b in consumption_order(buckets, NOW)] == [3, 8, 2, 1, 9]


def test_debit_across_buckets_in_consumption_order() -> None:
    buckets = [Bucket(1, "B", 100), Bucket(2, "B", 50, expires_at=days(1)), Bucket(3, "C", 99)]
    assert _deltas(plan_debit(buckets, "B", 30, NOW, 0)) == [(2, -30)]
    assert _deltas(plan_debit(buckets, "B", 120, NOW, 0)) == [(2, -50), (1, -70)]
    assert _deltas(plan_debit(buckets, "B", 150, NOW, 0)) == [(2, -50), (1, -100)]
    assert plan_debit(buckets, "B", 151, NOW, 0) is None


def test_debt_lands_on_the_open_bucket() -> None:
    buckets = [Bucket(1, "B", 100), Bucket(2, "B", 50, expires_at=days(1))]
    assert _deltas(plan_debit(buckets, "B", 200, NOW, None)) == [(2, -50), (1, -150)]
    dated = [Bucket(2, "B", 50, expires_at=days(1))]
    changes = plan_debit(dated, "B", 80, NOW, -30)
    assert changes is not None
    assert _deltas(changes) == [(2, -50), (0, -30)]
    assert (changes[1].bucket.expires_at, changes[1].bucket.start_at) == (None, None)
    assert plan_debit(dated, "B", 81, NOW, -30) is None
    in_debt = [Bucket(1, "B", -30)]
    assert _deltas(plan_debit(in_debt, "B", 20, NOW, -50)) == [(1, -20)]
    assert plan_debit(in_debt, "B", 21, NOW, -50) is None


def test_undated_credit_joins_the_open_bucket_and_pays_its_debt() -> None:
    assert _deltas(plan_credit([Bucket(1, "B", -40)], "B", 100, NOW)) == [(1, 100)]
    changes = plan_credit([Bucket(1, "C", 5)], "B", 100, NOW)
    assert [(c.bucket.id, c.bucket.balance_type, c.delta) for c in changes] == [(0, "B", 100)]
    started = plan_credit([Bucket(1, "B", 5)], "B", 7, NOW, start_at=NOW)
    assert _deltas(started) == [(1, 7)]


def test_dated_credit_pays_debt_first_then_joins_the_same_dates() -> None:
    buckets = [Bucket(1, "B", -40), Bucket(2, "B", 10, expires_at=days(5))]
    assert _deltas(plan_credit(buckets, "B", 100, NOW, None, days(5))) == [(1, 40), (2, 60)]
    assert _deltas(plan_credit(buckets, "B", 30, NOW, None, days(5))) == [(1, 30)]
    new = plan_credit(buckets, "B", 100, NOW, None, days(6))
    assert [(c.bucket.id, c.delta, c.expires_at) for c in new] == [(1, 40, None), (0, 60, days(6))]


def test_credit_that_starts_later_leaves_debt_alone() -> None:
    buckets = [Bucket(1, "B", -40)]
    changes = plan_credit(buckets, "B", 100, NOW, days(1), days(5))
    assert [(c.bucket.id, c.delta, c.bucket.start_at) for c in changes] == [(0, 100, days(1))]


def test_apply_changes_projects_the_result() -> None:
    buckets = [Bucket(1, "B", 10, expires_at=days(1))]
    changes = [
        BucketChange(buckets[0], 5, days(3)),
        new_bucket("B", 7, None, None),
    ]
    assert apply_changes(buckets, changes) == [
        Bucket(1, "B", 15, expires_at=days(3)),
        Bucket(0, "B", 7),
    ]


# -- maximum balance -----------------------------------------------------------------------------

LIMIT, REJECT = MaximumBalancePolicy.LIMIT, MaximumBalancePolicy.REJECT


@pytest.mark.parametrize(
    ("available", "amount", "maximum", "policy", "later", "expected"),
    [(900, 50, None, None, False, (CreditOutcome.ACCEPTED, 50, 0)),
     (900, 100, 1000, LIMIT, False, (CreditOutcome.ACCEPTED, 100, 0)),
     (900, 150, 1000, LIMIT, False, (CreditOutcome.LIMITED, 100, 50)),
     (1200, 150, 1000, LIMIT, False, (CreditOutcome.LIMITED, 0, 150)),
     (900, 101, 1000, REJECT, False, (CreditOutcome.REJECTED, 0, 101)),
     (900, 100, 1000, REJECT, False, (CreditOutcome.ACCEPTED, 100, 0)),
     (900, 500, 1000, REJECT, True, (CreditOutcome.ACCEPTED, 500, 0))],
)  # fmt: skip
def test_maximum_balance_policies(
    available: int,
    amount: int,
    maximum: int | None,
    policy: MaximumBalancePolicy | None,
    later: bool,
    expected: tuple[CreditOutcome, int, int],
) -> None:
    decision = decide_credit(available, amount, maximum, policy, later)
    assert (decision.outcome, decision.accepted, decision.dropped) == expected


# -- adjustments ---------------------------------------------------------------------------------


def test_adjustment_limits() -> None:
    limits = check_adjustment_limits(-100, 500)
    check_adjustment(-100, limits, "B")
    check_adjustment(500, limits, "B")
    for amount in (-101, 501):
        error = _error(check_adjustment, amount, limits, "B")
        assert (error.kind, error.field) == (ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS, "amount")
    error = _error(check_adjustment, -1, AdjustmentLimits(0, 500), "B")
    assert error.detail == "negative adjustments are not allowed: the minimum is 0"
    error = _error(check_adjustment, 1, None, "B")
    assert error.field == "balance_type"
    assert _error(check_adjustment_limits, 5, 4).field == "minimum"


def test_operator_limits_win() -> None:
    product, own = AdjustmentLimits(-5, 5), AdjustmentLimits(0, 1)
    assert effective_limits(product, own) is own
    assert effective_limits(product, None) is product
    assert effective_limits(None, None) is None


# -- merge ---------------------------------------------------------------------------------------


def test_merged_wallet_expiry() -> None:
    assert merged_expiry(days(1), days(5), ExpiryPolicy.BEST) == days(5)
    assert merged_expiry(days(5), days(1), ExpiryPolicy.BEST) == days(5)
    assert merged_expiry(days(1), None, ExpiryPolicy.BEST) is None
    assert merged_expiry(None, days(1), ExpiryPolicy.BEST) is None
    assert merged_expiry(days(1), days(5), ExpiryPolicy.IGNORE) == days(1)


SOURCE = [
    Bucket(11, "B", 30),
    Bucket(12, "B", 20, expires_at=days(8)),
    Bucket(13, "B", 5, expires_at=days(2)),
    Bucket(14, "B", 7, start_at=days(1), expires_at=days(9)),
    Bucket(15, "C", 9, expires_at=days(4)),
    Bucket(16, "B", 0, expires_at=days(3)),
]
TARGET = [
    Bucket(1, "B", 100),
    Bucket(2, "B", 10, expires_at=days(5)),
    Bucket(3, "B", 10, expires_at=days(3)),
]


def _plan(policy: BucketPolicy) -> list[tuple[int, int, object, object]]:
    changes = plan_bucket_merge(SOURCE, TARGET, policy, NOW)
    assert sum(c.delta for c in changes) == sum(b.value for b in SOURCE)
    return [(c.bucket.id, c.delta, c.bucket.start_at, c.expires_at) for c in changes]


def test_merge_policy_joins_dated_buckets_taking_the_later_date() -> None:
    assert _plan(BucketPolicy.MERGE) == [
        (1, 30, None, None),  # undated value joins the open bucket
        (2, 25, None, days(8)),  # the latest-expiring target bucket takes both dated buckets
        (0, 7, days(1), days(9)),  # not started: moves unchanged
        (0, 9, None, days(4)),  # no target bucket of that type: moves
    ]


def test_move_policy_keeps_every_dated_bucket_as_it_is() -> None:
    assert _plan(BucketPolicy.MOVE) == [
        (1, 30, None, None),
        (0, 20, None, days(8)),
        (0, 5, None, days(2)),
        (0, 7, days(1), days(9)),
        (0, 9, None, days(4)),
    ]


def test_undated_source_value_opens_a_bucket_when_the_target_has_none() -> None:
    changes = plan_bucket_merge(
        [Bucket(1, "B", 4), Bucket(2, "B", -9)], [], BucketPolicy.MERGE, NOW
    )
    assert [(c.bucket.id, c.delta, c.expires_at) for c in changes] == [(0, -5, None)]


def test_change_keeps_the_expiry() -> None:
    bucket = Bucket(1, "B", 10, expires_at=days(1))
    assert change(bucket, -3) == BucketChange(bucket, -3, days(1))
    assert change(bucket, -3).new_value == 7
