"""Invariants of the balance arithmetic over random buckets: debits and credits move exactly
their amount, a floor is never crossed, merges conserve value, the maximum is honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ocs.core.configuration import MaximumBalancePolicy
from ocs.core.wallets import (
    Bucket,
    BucketPolicy,
    CreditOutcome,
    available_value,
    decide_credit,
    plan_bucket_merge,
    plan_credit,
    plan_debit,
    total_value,
)
from tests.support.buckets import apply_changes

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
offsets = st.one_of(st.none(), st.integers(-5, 5).map(lambda d: NOW + timedelta(days=d)))


@st.composite
def buckets(draw: st.DrawFn, prepaid: bool = False) -> list[Bucket]:
    """Buckets of balance types B and C; prepaid wallets hold no negative value."""
    found = []
    for index in range(draw(st.integers(0, 6))):
        start = draw(offsets)
        expiry = draw(offsets)
        if start is not None and expiry is not None and start >= expiry:
            start = None
        low = 0 if prepaid or expiry is not None else -500
        value = draw(st.integers(low, 1000))
        found.append(Bucket(index + 1, draw(st.sampled_from("BC")), value, start, expiry))
    return found


def _available(items: list[Bucket]) -> int:
    return available_value([b for b in items if b.balance_type == "B"], NOW)


@given(buckets(), st.integers(1, 3000), st.sampled_from([None, 0, -200]))
def test_a_debit_moves_exactly_its_amount_and_respects_the_floor(
    found: list[Bucket], amount: int, floor: int | None
) -> None:
    changes = plan_debit(found, "B", amount, NOW, floor)
    before = _available(found)
    if changes is None:
        assert floor is not None
        assert before - amount < floor
        return
    after = apply_changes(found, changes)
    assert sum(c.delta for c in changes) == -amount
    assert _available(after) == before - amount
    assert floor is None or _available(after) >= floor
    for c in changes:
        assert c.bucket.balance_type == "B"
        assert c.bucket.id == 0 or c.bucket.is_available(NOW)
        # Only the open (undated) bucket may be driven below zero.
        assert c.new_value >= 0 or c.bucket.expires_at is None


@given(buckets(prepaid=True), st.integers(1, 3000))
def test_prepaid_never_goes_below_zero(found: list[Bucket], amount: int) -> None:
    changes = plan_debit(found, "B", amount, NOW, 0)
    if changes is not None:
        assert all(b.value >= 0 for b in apply_changes(found, changes))


@given(buckets(), st.integers(1, 3000), offsets, offsets)
def test_a_credit_adds_exactly_its_amount(
    found: list[Bucket], amount: int, start: datetime | None, expiry: datetime | None
) -> None:
    if expiry is not None and expiry <= NOW:
        expiry = None
    if start is not None and (start < NOW or (expiry is not None and start >= expiry)):
        start = None
    changes = plan_credit(found, "B", amount, NOW, start, expiry)
    after = apply_changes(found, changes)
    assert sum(c.delta for c in changes) == amount
    assert total_value(after) == total_value(found) + amount
    immediate = start is None or start <= NOW
    assert _available(after) == _available(found) + (amount if immediate else 0)


@given(buckets(), buckets(), st.sampled_from(list(BucketPolicy)))
def test_a_merge_conserves_value_per_balance_type(
    source: list[Bucket], target: list[Bucket], policy: BucketPolicy
) -> None:
    changes = plan_bucket_merge(source, target, policy, NOW)
    after = apply_changes(target, changes)
    for balance_type in "BC":
        moved = sum(b.value for b in source if b.balance_type == balance_type)
        held = sum(b.value for b in target if b.balance_type == balance_type)
        assert sum(b.value for b in after if b.balance_type == balance_type) == held + moved
    for c in changes:
        if c.bucket.id != 0:
            assert c.expires_at is None or c.bucket.expires_at is not None
            assert c.bucket.expires_at is None or c.expires_at >= c.bucket.expires_at  # type: ignore[operator]


@given(
    st.integers(-1000, 3000),
    st.integers(1, 3000),
    st.one_of(st.none(), st.integers(0, 2000)),
    st.sampled_from(list(MaximumBalancePolicy)),
    st.booleans(),
)
def test_the_maximum_balance_is_honoured(
    available: int, amount: int, maximum: int | None, policy: MaximumBalancePolicy, later: bool
) -> None:
    decision = decide_credit(available, amount, maximum, policy, later)
    assert decision.accepted + decision.dropped == amount
    assert 0 <= decision.accepted <= amount
    if decision.outcome is CreditOutcome.REJECTED:
        assert policy is MaximumBalancePolicy.REJECT
        assert decision.accepted == 0
    elif maximum is not None and not later and decision.dropped:
        assert available + decision.accepted <= max(maximum, available)
    if maximum is None or later:
        assert decision.outcome is CreditOutcome.ACCEPTED
