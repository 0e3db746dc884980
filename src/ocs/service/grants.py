"""The grant scheduler: grants, recurrences, rollovers and expiries of subscribed services.

Exactly once per period: every grant starts by inserting its `balance_grants` row, whose
unique key (subscription, service, period) conflicts when another run (a second thread, a
restart, a catch-up) did it already; the bucket, its EDR and the notification are written in
the same transaction, so a crash before the commit leaves nothing and the next run grants.

Periods are computed from the subscription's activation, never from the time of the run, so a
run after downtime catches up every missed period and a clock that jumps backwards finds
nothing new to grant.

Rollover and consumption priority: within a balance, charging consumes buckets by earliest
expiry (core.wallets.consumption_order). While rollover is on, a grant's bucket expires at the
end of the last period its units may roll into; at the period end its unconsumed units move to
a separate rollover bucket whose expiry is chosen so that it sorts before (ROLLOVER_FIRST) or
after (NEW_FIRST) every grant it lives alongside. The scheduler drops a rollover at the end of
its last period with an EXPIRY EDR.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ocs.core.casm import StateChangeStatus
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrType
from ocs.core.errors import not_found
from ocs.core.notifications import NotificationEvent, NotificationKind
from ocs.core.offers import (
    BalanceGrant,
    BalanceService,
    GrantRollover,
    PeriodUnit,
    RolloverPriority,
    Subscription,
    SubscriptionLevel,
    SubscriptionState,
)
from ocs.core.recurrence import (
    DAY,
    SECOND,
    Grid,
    StatePoint,
    deactivated_at,
    first_active,
    first_chargeable,
    prorate,
    recurrence_grid,
    validity_end,
)
from ocs.core.security import Privilege
from ocs.core.states import EntityState
from ocs.core.wallets import Bucket, change, new_bucket
from ocs.service.actor import Actor
from ocs.service.notifications import enqueue_notification
from ocs.service.offers import casm_level
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallet_ledger import Ledger, Origin, totals

log = logging.getLogger("ocs.grants")

SUBSCRIPTIONS_PER_RUN_MAX = 10_000
# Catch-up after downtime is bounded per subscription and service; the rest follows next run.
PERIODS_PER_RUN_MAX = 400
ROLLOVER_DROPS_PER_RUN_MAX = 1000
EXPIRY_WALLETS_PER_RUN_MAX = 1000
GRANTS_LIST_MAX = 500
FAR = timedelta(days=366 * 200)


@dataclass
class GrantRun:
    """What one run did."""

    granted: int = 0
    rolled_over: int = 0
    dropped: int = 0
    expired_wallets: int = 0
    ended: int = 0


@dataclass(frozen=True)
class _Plan:
    """Everything one subscription's grants need, read once per run."""

    subscription: Subscription
    activated_at: datetime
    timeline: list[StatePoint]
    services: list[BalanceService]
    billing: tuple[int, PeriodUnit, int | None] | None
    subscriber_id: int | None


class GrantService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- queries ------------------------------------------------------------------------------

    def grants_of_wallet(self, actor: Actor, wallet_id: int) -> list[BalanceGrant]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            wallet = uow.wallets.get_wallet(wallet_id)
            if wallet is None or not actor.may_use_provider(wallet.service_provider):
                raise not_found("wallet", wallet_id)
            return uow.offers.grants_of_wallet(wallet_id, GRANTS_LIST_MAX)

    def rollovers_of(
        self, actor: Actor, subscription_id: int, service_code: str
    ) -> list[GrantRollover]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            found = uow.offers.get_subscription(subscription_id)
            if found is None or not actor.may_use_provider(found.service_provider):
                raise not_found("subscription", subscription_id)
            return uow.offers.rollovers_of(subscription_id, service_code)

    # -- the scheduler ------------------------------------------------------------------------

    def run(self, actor: Actor) -> GrantRun:
        """An operator's run (`ocs grants run`, POST /grants/run)."""
        actor.require(Privilege.EXECUTE)
        return self.run_due()

    def run_due(self, now: datetime | None = None) -> GrantRun:
        """Apply every due grant, recurrence, rollover and expiry up to `now`."""
        now = now or self.clock.now()
        result = GrantRun()
        with self.store.reading() as uow:
            ids = uow.offers.active_subscription_ids(now, SUBSCRIPTIONS_PER_RUN_MAX)
        for subscription_id in ids:
            try:
                self._run_subscription(subscription_id, now, result)
            except Exception:  # one broken subscription must not stop the others
                log.exception("grants of subscription %s failed", subscription_id)
        self._drop_rollovers(now, result)
        self._expire(now, result)
        return result

    def _run_subscription(self, subscription_id: int, now: datetime, result: GrantRun) -> None:
        plan = self._plan(subscription_id, now, result)
        if plan is None:
            return
        for service in plan.services:
            self._run_service(plan, service, now, result)
        sub = plan.subscription
        stops = (sub.end_at, deactivated_at(plan.timeline))
        if any(stop is not None and stop <= now for stop in stops):
            self._end(sub.id, now, result)

    def _plan(self, subscription_id: int, now: datetime, result: GrantRun) -> _Plan | None:
        # Read first, without the write lock: most runs find the subscription as it was.
        with self.store.reading() as uow:
            found = _active(uow, subscription_id)
            if found is None:
                return None
            sub, timeline = found
            if timeline is not None:
                if sub.activated_at is not None:
                    return _assemble(uow, sub, sub.activated_at, timeline)
                if _first_activation(sub, timeline, now) is None:
                    return None  # never active yet: periods start at the first activation
        with self.store.transaction() as uow:
            found = _active(uow, subscription_id)
            if found is None:
                return None
            sub, timeline = found
            if timeline is None:
                # The entity or its wallet was deleted: nothing can be granted any more.
                uow.offers.update_subscription(
                    replace(sub, state=SubscriptionState.ENDED, ended_at=now)
                )
                result.ended += 1
                return None
            activated = sub.activated_at
            if activated is None:
                activated = _first_activation(sub, timeline, now)
                if activated is None:
                    return None
                sub = replace(sub, activated_at=activated)
                uow.offers.update_subscription(sub)
            return _assemble(uow, sub, activated, timeline)

    def _run_service(
        self, plan: _Plan, service: BalanceService, now: datetime, result: GrantRun
    ) -> None:
        sub = plan.subscription
        with self.store.reading() as uow:
            done = {g.period_index: g for g in uow.offers.grants_of(sub.id, service.code)}
            rolled = {r.period_index for r in uow.offers.rollovers_of(sub.id, service.code)}
        actions = 0
        for index, start, end in self._periods(plan, service, now):
            if actions >= PERIODS_PER_RUN_MAX:
                return
            if index not in done:
                grant = self._grant(plan, service, index, start, end, now)
                if grant is None:
                    return  # not due yet (e.g. suspended); later periods wait for it
                done[index] = grant
                result.granted += 1
                actions += 1
            rollover = service.recurrence is not None and service.recurrence.rollover_periods
            if rollover and end is not None and end <= now and index not in rolled:
                if self._rollover(plan, service, done[index], now):
                    result.rolled_over += 1
                rolled.add(index)
                actions += 1

    def _periods(
        self, plan: _Plan, service: BalanceService, now: datetime
    ) -> Iterator[tuple[int, datetime, datetime | None]]:
        """The periods that have started by `now`, within the recurrence cycles, before the
        subscription's end and the entity's deactivation, oldest first."""
        sub, activated = plan.subscription, plan.activated_at
        stop = min(
            (t for t in (sub.end_at, deactivated_at(plan.timeline)) if t is not None),
            default=None,
        )
        r = service.recurrence
        if r is None:
            if stop is None or activated < stop:
                end = None
                if service.validity is not None and service.validity_unit is not None:
                    end = validity_end(activated, service.validity, service.validity_unit)
                yield 0, activated, end
            return
        grid = self._grid(plan, service)
        first = 0 if r.execute_immediately else 1
        last = grid.index_at(now)
        if r.cycles is not None:
            last = min(last, first + r.cycles - 1)
        for index in range(first, last + 1):
            start = grid.start(index)
            if stop is not None and start >= stop:
                return
            yield index, start, grid.end(index)

    def _grid(self, plan: _Plan, service: BalanceService) -> Grid:
        r = service.recurrence
        assert r is not None
        return recurrence_grid(
            r.create_balance_at, r.period_unit, r.every, plan.activated_at, plan.billing
        )

    # -- granting -----------------------------------------------------------------------------

    def _grant(
        self,
        plan: _Plan,
        service: BalanceService,
        index: int,
        start: datetime,
        end: datetime | None,
        now: datetime,
    ) -> BalanceGrant | None:
        """Grant one period, or None while it is not due. A period spent entirely without a
        chargeable moment (suspended with a non-charged reason) records a zero grant."""
        sub = plan.subscription
        window_start = max(start, plan.activated_at)
        window_end = end if end is not None else max(now, window_start) + DAY
        moment = first_chargeable(plan.timeline, window_start, window_end)
        if moment is None and (end is None or end > now):
            return None
        if moment is not None and moment > now:
            return None
        amount = 0 if moment is None else self._amount(plan, service, index, start, end, moment)
        expires_at = self._grant_expiry(plan, service, index, end)
        grant = BalanceGrant(
            id=0,
            subscription_id=sub.id,
            service_code=service.code,
            period_index=index,
            wallet_id=sub.wallet_id,
            balance_type=service.balance_type,
            bucket_id=None,
            granted=amount,
            period_start=start,
            period_end=end,
            reject_at_full=service.reject_at_full,
            thresholds_pct=service.thresholds_pct,
            first_usage_notify=service.first_usage_notify,
            granted_at=now,
        )
        with self.store.transaction() as uow:
            grant_id = uow.offers.claim_grant(grant)
            if grant_id is None:
                return _stored(uow, sub.id, service.code, index)
            grant = replace(grant, id=grant_id)
            if amount == 0:
                return grant
            ledger = Ledger(uow, now, Origin(subscriber_id=plan.subscriber_id))
            w = ledger.load(sub.wallet_id)
            ledger.ensure_balance(w, service.balance_type)
            before = totals(w.buckets)
            [bucket_id] = ledger.apply(
                w, [new_bucket(service.balance_type, amount, None, expires_at)]
            )
            detail = {
                "grant": {
                    "id": grant_id,
                    "subscription": sub.id,
                    "service": service.code,
                    "period": index,
                    "period_start": start.isoformat(),
                    "period_end": None if end is None else end.isoformat(),
                }
            }
            ledger.edr(w, EdrType.RECHARGE, before, [service.balance_type], detail)
            grant = replace(grant, bucket_id=bucket_id)
            self._granted(uow, grant, service, plan, now)
            ledger.expire(w)  # a caught-up period that is already over leaves at once
            return grant

    def _granted(
        self,
        uow: UnitOfWork,
        grant: BalanceGrant,
        service: BalanceService,
        plan: _Plan,
        now: datetime,
    ) -> None:
        """Complete a grant inside its transaction: link its bucket and raise the recurrence
        notification."""
        uow.offers.set_grant_bucket(grant.id, grant.bucket_id)
        r = service.recurrence
        over = grant.period_end is not None and grant.period_end <= now
        if r is None or not r.on_recurrence_notify or plan.subscriber_id is None or over:
            return
        event = NotificationEvent(
            kind=NotificationKind.RECURRENCE,
            subscriber_id=plan.subscriber_id,
            at=now,
            dedup_key=f"grant:{grant.id}:recurrence",
            params={
                "balance": service.name,
                "service": service.code,
                "granted": grant.granted,
                "unit": service.balance_unit.value,
                "period_start": grant.period_start.isoformat(),
            },
        )
        enqueue_notification(uow, event)

    def _amount(
        self,
        plan: _Plan,
        service: BalanceService,
        index: int,
        start: datetime,
        end: datetime | None,
        moment: datetime,
    ) -> int:
        r = service.recurrence
        if r is None or end is None:
            return service.granted_base
        from_at = start
        if r.prorate_when_activated and index == 0:
            from_at = max(from_at, plan.activated_at)
        if r.prorate_when_not_charged:
            # Only time lost after the activation counts: suspended without charging.
            from_at += moment - max(start, plan.activated_at)
        return prorate(service.granted_base, r.prorate_mode, start, end, from_at)

    def _grant_expiry(
        self, plan: _Plan, service: BalanceService, index: int, end: datetime | None
    ) -> datetime | None:
        r = service.recurrence
        if r is None or not r.rollover_periods:
            return end
        # Its units may live on as a rollover until the end of the last rollover period.
        return self._grid(plan, service).end(index + r.rollover_periods)

    # -- rollover -----------------------------------------------------------------------------

    def _rollover(
        self, plan: _Plan, service: BalanceService, grant: BalanceGrant, now: datetime
    ) -> bool:
        """Move the unconsumed units of an ended period into a rollover bucket."""
        r = service.recurrence
        assert r is not None
        assert r.rollover_periods
        grid = self._grid(plan, service)
        n = r.rollover_periods
        drop_at = grid.end(grant.period_index + n)
        if r.rollover_priority is RolloverPriority.ROLLOVER_FIRST:
            expires_at = drop_at
        else:
            # After every grant it lives alongside: the last one expires at the end of period
            # index + 2n; one second later keeps the order strict.
            expires_at = grid.end(grant.period_index + 2 * n) + SECOND
        rollover = GrantRollover(
            id=0,
            subscription_id=grant.subscription_id,
            service_code=service.code,
            period_index=grant.period_index,
            wallet_id=grant.wallet_id,
            balance_type=service.balance_type,
            bucket_id=None,
            value=0,
            rolled_at=now,
            drop_at=drop_at,
        )
        with self.store.transaction() as uow:
            rollover_id = uow.offers.claim_rollover(rollover)
            if rollover_id is None or grant.bucket_id is None:
                return False
            if uow.wallets.get_wallet(grant.wallet_id) is None:
                return False
            ledger = Ledger(uow, now, Origin(subscriber_id=plan.subscriber_id))
            w = ledger.load(grant.wallet_id)
            expected = self._grant_expiry(plan, service, grant.period_index, grant.period_end)
            bucket = _bucket(w.buckets, grant.bucket_id, expected)
            if bucket is None or bucket.value <= 0:
                return False
            before = totals(w.buckets)
            moved = [change(bucket, -bucket.value), new_bucket(bucket.balance_type, bucket.value,
                                                               None, expires_at)]  # fmt: skip
            ids = ledger.apply(w, moved, drop_empty=True)
            detail = {
                "rollover": {
                    "id": rollover_id,
                    "grant": grant.id,
                    "from_bucket": bucket.id,
                    "to_bucket": ids[1],
                    "value": bucket.value,
                    "priority": r.rollover_priority.value,
                    "drop_at": drop_at.isoformat(),
                }
            }
            ledger.edr(w, EdrType.BALANCE_EDIT, before, [bucket.balance_type], detail)
            uow.offers.set_rollover_bucket(rollover_id, ids[1], bucket.value, expires_at)
            return True

    def _drop_rollovers(self, now: datetime, result: GrantRun) -> None:
        with self.store.reading() as uow:
            due = uow.offers.rollovers_to_drop(now, ROLLOVER_DROPS_PER_RUN_MAX)
        for rollover in due:
            with self.store.transaction() as uow:
                if not uow.offers.mark_dropped(rollover.id, now):
                    continue  # another run dropped it
                if rollover.bucket_id is None or uow.wallets.get_wallet(rollover.wallet_id) is None:
                    continue
                ledger = Ledger(uow, now)
                w = ledger.load(rollover.wallet_id)
                bucket = _bucket(w.buckets, rollover.bucket_id, rollover.bucket_expires_at)
                result.dropped += 1
                if bucket is None or bucket.value == 0:
                    continue  # consumed, or it expired on its own (EXPIRY EDR written then)
                before = totals(w.buckets)
                ledger.apply(w, [change(bucket, -bucket.value)], drop_empty=True)
                detail = {"buckets": [bucket.id], "rollover_dropped": rollover.id}
                ledger.edr(w, EdrType.EXPIRY, before, [bucket.balance_type], detail)

    # -- expiry and ending --------------------------------------------------------------------

    def _expire(self, now: datetime, result: GrantRun) -> None:
        with self.store.reading() as uow:
            ids = uow.wallets.wallets_with_expired_buckets(now, EXPIRY_WALLETS_PER_RUN_MAX)
        for wallet_id in ids:
            with self.store.transaction() as uow:
                if uow.wallets.get_wallet(wallet_id) is None:
                    continue
                ledger = Ledger(uow, now)
                ledger.load(wallet_id)
                result.expired_wallets += 1 if ledger.written else 0

    def _end(self, subscription_id: int, now: datetime, result: GrantRun) -> None:
        with self.store.transaction() as uow:
            sub = uow.offers.get_subscription(subscription_id)
            if sub is None or sub.state is not SubscriptionState.ACTIVE:
                return
            uow.offers.update_subscription(
                replace(sub, state=SubscriptionState.ENDED, ended_at=now)
            )
            result.ended += 1


def _active(
    uow: UnitOfWork, subscription_id: int
) -> tuple[Subscription, list[StatePoint] | None] | None:
    """The subscription while it is active, with its entity's state timeline; the timeline is
    None when the entity or the wallet is gone."""
    sub = uow.offers.get_subscription(subscription_id)
    if sub is None or sub.state is not SubscriptionState.ACTIVE:
        return None
    timeline = _timeline(uow, sub.level, sub.entity_id)
    if timeline is None or uow.wallets.get_wallet(sub.wallet_id) is None:
        return sub, None
    return sub, timeline


def _first_activation(
    sub: Subscription, timeline: list[StatePoint], now: datetime
) -> datetime | None:
    """When a subscription's periods start: the entity's first activation, or the
    subscription's start when the entity was active before; None while never active."""
    first = first_active(timeline, timeline[0].at, now + SECOND)
    return None if first is None else max(first, sub.start_at)


def _assemble(
    uow: UnitOfWork, sub: Subscription, activated: datetime, timeline: list[StatePoint]
) -> _Plan:
    offer = uow.offers.get_offer(sub.offer)
    assert offer is not None
    services: list[BalanceService] = []
    for product_code in offer.products:
        product = uow.offers.get_product(product_code)
        assert product is not None
        for code in product.services:
            service = uow.offers.get_service(code)
            if service is not None and service not in services:
                services.append(service)
    return _Plan(
        subscription=sub,
        activated_at=activated,
        timeline=timeline,
        services=services,
        billing=_billing(uow, sub),
        subscriber_id=_notified_subscriber(uow, sub),
    )


def _bucket(buckets: list[Bucket], bucket_id: int, expires_at: datetime | None) -> Bucket | None:
    """The bucket a grant or rollover wrote, if it still exists: SQLite may give a deleted
    bucket's id to a new one, so the expiry must match too."""
    for bucket in buckets:
        if bucket.id == bucket_id and bucket.expires_at == expires_at:
            return bucket
    return None


def _stored(uow: UnitOfWork, subscription_id: int, service: str, index: int) -> BalanceGrant:
    for grant in uow.offers.grants_of(subscription_id, service):
        if grant.period_index == index:
            return grant
    raise AssertionError("a conflicting grant row must exist")


def _timeline(uow: UnitOfWork, level: SubscriptionLevel, entity_id: int) -> list[StatePoint] | None:
    """The entity's states over time from its applied state changes; None when it is gone.
    The initial state is not recorded: when the first change activates the entity it was
    INACTIVE before, otherwise ACTIVE."""
    if level is SubscriptionLevel.SUBSCRIBER:
        entity: object = uow.casm.get_subscriber(entity_id)
    elif level is SubscriptionLevel.ACCOUNT:
        entity = uow.casm.get_account(entity_id)
    else:
        entity = uow.casm.get_customer(entity_id)
    if entity is None:
        return None
    created_at: datetime = entity.created_at  # type: ignore[attr-defined]
    changes = sorted(
        (
            c
            for c in uow.casm.list_state_changes(casm_level(level), entity_id)
            if c.status == StateChangeStatus.APPLIED
        ),
        key=lambda c: (c.valid_from, c.id),
    )

    def charged(reason: str | None) -> bool:
        record = None if reason is None else uow.config.get(ConfigKind.STATE_REASON, reason)
        return bool(record and record.get("charged"))

    if not changes:
        state: EntityState = entity.state  # type: ignore[attr-defined]
        return [StatePoint(created_at, state, charged(entity.state_reason))]  # type: ignore[attr-defined]
    initial = EntityState.INACTIVE if changes[0].state is EntityState.ACTIVE else EntityState.ACTIVE
    points = [StatePoint(created_at, initial)]
    points += [StatePoint(c.valid_from, c.state, charged(c.state_reason)) for c in changes]
    return points


def _billing(uow: UnitOfWork, sub: Subscription) -> tuple[int, PeriodUnit, int | None] | None:
    account_id = None
    if sub.level is SubscriptionLevel.SUBSCRIBER:
        subscriber = uow.casm.get_subscriber(sub.entity_id)
        account_id = None if subscriber is None else subscriber.account_id
    elif sub.level is SubscriptionLevel.ACCOUNT:
        account_id = sub.entity_id
    account = None if account_id is None else uow.casm.get_account(account_id)
    if account is None or account.billing_cycle is None:
        return None
    cycle = uow.config.get(ConfigKind.BILLING_CYCLE, account.billing_cycle)
    if cycle is None:
        return None
    day = cycle.get("billing_day")
    return (
        int(str(cycle["duration"])),
        PeriodUnit(str(cycle["duration_unit"])),
        None if day is None else int(str(day)),
    )


def _notified_subscriber(uow: UnitOfWork, sub: Subscription) -> int | None:
    if sub.level is SubscriptionLevel.SUBSCRIBER:
        return sub.entity_id
    links = uow.wallets.links_of_wallet(sub.wallet_id)
    primary = sorted(
        links, key=lambda link: (link.wallet_type.value != "PRIMARY", link.subscriber_id)
    )
    return primary[0].subscriber_id if primary else None
