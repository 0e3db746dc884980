"""Random sequences of top-ups, adjustments, bucket edits, charges, expiries, merges and
reversals on two fresh wallets per example, on SQLite and PostgreSQL. After every step each
balance equals the sum of its EDR deltas, a PREPAID balance is never below zero, and a refused
step changed nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocs.bootstrap import Services
from ocs.core.errors import DomainError
from ocs.core.wallets import ChargeOutcome, LimitType
from ocs.service.actor import Actor
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import BucketEdit, ChargeRequest, MergeRequest
from tests.support.clock import FakeClock
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    ledger_fingerprint,
    load_wallet_catalog,
    new_subscriber,
    wallet_of,
)

BALANCE_TYPES = st.sampled_from(["CASH", "DATA", "SMS", "VOICE"])
WHO = st.integers(0, 1)
DAYS = st.one_of(st.none(), st.integers(1, 6))

OPERATION = st.one_of(
    st.tuples(st.just("top_up"), WHO, BALANCE_TYPES, st.integers(1, 600), DAYS),
    st.tuples(st.just("adjust"), WHO, BALANCE_TYPES, st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("add_bucket"), WHO, BALANCE_TYPES, st.integers(1, 600), DAYS, DAYS),
    st.tuples(st.just("edit_bucket"), WHO, st.integers(0, 20), st.integers(0, 600)),
    st.tuples(st.just("delete_bucket"), WHO, st.integers(0, 20)),
    st.tuples(st.just("charge"), WHO, BALANCE_TYPES, st.integers(1, 500)),
    # Charges or adjusts exactly what is available plus 0-2: probes every balance floor.
    st.tuples(st.just("drain"), WHO, BALANCE_TYPES, st.integers(0, 2), st.booleans()),
    st.tuples(st.just("advance"), st.integers(1, 96)),
    st.tuples(st.just("reverse"), st.integers(0, 20)),
    st.tuples(st.just("merge"), st.sampled_from(["MERGE", "MOVE"])),
)


@dataclass
class Run:
    services: Services
    admin: Actor
    clock: FakeClock
    subscribers: list[int]
    wallets: list[int]
    charges: list[int] = field(default_factory=list)

    def wallet(self, who: int) -> int:
        return self.wallets[who]

    def buckets(self, who: int) -> list[int]:
        view = self.services.wallets.get_wallet(self.admin, self.wallet(who))
        return [b.id for balance in view.balances for b in balance.buckets]

    def apply(self, op: tuple[object, ...]) -> None:
        name, *args = op
        getattr(self, f"_{name}")(*args)

    def _top_up(self, who: int, balance_type: str, amount: int, days: int | None) -> None:
        expires = None if days is None else self.clock.now() + timedelta(days=days)
        self.services.wallets.top_up(self.admin, self.wallet(who), balance_type, amount, expires)

    def _adjust(self, who: int, balance_type: str, amount: int) -> None:
        self.services.wallets.adjust(self.admin, self.wallet(who), balance_type, amount)

    def _add_bucket(
        self, who: int, balance_type: str, value: int, start: int | None, days: int | None
    ) -> None:
        now = self.clock.now()
        start_at = None if start is None else now + timedelta(days=start)
        expires = None if days is None else now + timedelta(days=days + (start or 0))
        self.services.wallets.add_bucket(
            self.admin, self.wallet(who), balance_type, value, start_at, expires
        )

    def _edit_bucket(self, who: int, index: int, value: int) -> None:
        ids = self.buckets(who)
        if ids:
            bucket_id = ids[index % len(ids)]
            edit = BucketEdit(value=value)
            self.services.wallets.edit_bucket(self.admin, self.wallet(who), bucket_id, edit)

    def _delete_bucket(self, who: int, index: int) -> None:
        ids = self.buckets(who)
        if ids:
            bucket_id = ids[index % len(ids)]
            self.services.wallets.delete_bucket(self.admin, self.wallet(who), bucket_id)

    def _charge(self, who: int, balance_type: str, amount: int) -> None:
        request = ChargeRequest(self.subscribers[who], {balance_type: amount})
        before = ledger_fingerprint(self.services)
        result = self.services.wallets.charge(request)
        if result.outcome is ChargeOutcome.CHARGED:
            assert result.edr is not None
            self.charges.append(result.edr.id)
        else:
            assert ledger_fingerprint(self.services) == before

    def _drain(self, who: int, balance_type: str, excess: int, by_charge: bool) -> None:
        view = self.services.wallets.get_wallet(self.admin, self.wallet(who))
        held = [b.available_value for b in view.balances if b.balance_type == balance_type]
        amount = (held[0] if held else 0) + excess
        if amount <= 0:
            return
        if by_charge:
            self._charge(who, balance_type, amount)
        else:
            self._adjust(who, balance_type, -amount)

    def _advance(self, hours: int) -> None:
        self.clock.advance(hours * 3600)
        self.services.wallets.expire_buckets(self.admin)

    def _reverse(self, index: int) -> None:
        if self.charges:
            self.services.edrs.reverse_charge(self.admin, self.charges[index % len(self.charges)])

    def _merge(self, policy: str) -> None:
        source, target = self.subscribers[1], self.subscribers[0]
        request = MergeRequest(source, target, bucket_policy=policy)
        self.services.wallets.merge(self.admin, request)
        # Both subscribers now share the target wallet.
        self.wallets[1] = self.wallets[0]

    def check(self) -> None:
        assert_balances_explained(self.services)
        for wallet_id in set(self.wallets):
            view = self.services.wallets.get_wallet(self.admin, wallet_id)
            for balance in view.balances:
                if balance.limit_type in (LimitType.PREPAID, LimitType.SINGLE_USE):
                    assert balance.available_value >= 0, balance
                    assert all(b.value >= 0 for b in balance.buckets), balance


@pytest.fixture
def ws(services: Services, admin: Actor) -> Services:
    load_wallet_catalog(services, admin)
    return services


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.sampled_from([("PREPAID", None), ("LIMITED_POSTPAID", -300), ("POSTPAID", None)]),
    st.lists(OPERATION, min_size=1, max_size=12),
)
def test_random_wallet_histories_keep_balances_explained_and_prepaid_above_zero(
    ws: Services,
    admin: Actor,
    clock: FakeClock,
    second_limit: tuple[str, int | None],
    operations: list[tuple[object, ...]],
) -> None:
    limit_type, minimum_credit = second_limit
    first = new_subscriber(ws, admin)
    second = new_subscriber(ws, admin, WalletInput(PRODUCT, limit_type=limit_type,
                                                   minimum_credit=minimum_credit))  # fmt: skip
    run = Run(ws, admin, clock, [first, second],
              [wallet_of(ws, admin, first), wallet_of(ws, admin, second)])  # fmt: skip
    merged = False
    for op in operations:
        if op[0] == "merge":
            if merged:
                continue
            merged = True
        before = ledger_fingerprint(ws)
        try:
            run.apply(op)
        except DomainError:
            assert ledger_fingerprint(ws) == before, op
            if op[0] == "merge":
                merged = False
        run.check()
