"""Grants, recurrence, pro-rating, rollover and the scheduler, moved through time with the
FakeClock, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.casm import CasmLevel
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.offers import BalanceGrant, BalanceService
from ocs.service.actor import Actor
from ocs.service.charging import load_catalog
from ocs.service.grants import GrantRun, GrantService, _Plan
from ocs.service.offers import SubscriptionInput
from ocs.service.ports import UnitOfWork
from ocs.service.wallets import ChargeRequest
from ocs.storage import offer_tables as o
from ocs.storage import tables as t
from ocs.storage.notification_tables import notification_outbox
from tests.support.clock import FakeClock
from tests.support.locks import run_beside, writer_holding_the_database
from tests.support.offers import load_classes, offer_with, recurrent
from tests.support.wallets import (
    assert_balances_explained,
    load_wallet_catalog,
    new_account,
    new_subscriber,
    wallet_of,
)

# Day 11 of April (30 days), midnight UTC.
APRIL_11 = datetime(2026, 4, 11, tzinfo=UTC)
DAY_S = 86_400
HUNDRED_MINUTES_S = 6000


@dataclass
class Rig:
    services: Services
    admin: Actor
    clock: FakeClock

    def subscribe(self, service: dict[str, object], subscriber: int | None = None) -> int:
        offer = offer_with(self.services, self.admin, service)
        subscriber = subscriber or new_subscriber(self.services, self.admin)
        inp = SubscriptionInput(offer.code, "subscriber", subscriber)
        self.services.offers.subscribe(self.admin, inp)
        return subscriber

    def wallet(self, subscriber: int) -> int:
        return wallet_of(self.services, self.admin, subscriber)

    def grants(self, subscriber: int) -> list[BalanceGrant]:
        found = self.services.grants.grants_of_wallet(self.admin, self.wallet(subscriber))
        return sorted(found, key=lambda g: g.period_index)

    def buckets(self, subscriber: int, balance_type: str) -> list[tuple[int, datetime | None]]:
        view = self.services.wallets.get_wallet(self.admin, self.wallet(subscriber))
        for balance in view.balances:
            if balance.balance_type == balance_type:
                return sorted((b.value, b.expires_at) for b in balance.buckets)
        return []

    def held(self, subscriber: int, balance_type: str) -> int:
        return sum(value for value, _ in self.buckets(subscriber, balance_type))

    def at(self, when: datetime) -> None:
        self.clock.current = when

    def run(self) -> None:
        self.services.grants.run_due()

    def charge(self, subscriber: int, balance_type: str, amount: int) -> None:
        request = ChargeRequest(subscriber_id=subscriber, amounts={balance_type: amount})
        result = self.services.wallets.charge(request)
        assert result.outcome == "CHARGED", result

    def state(self, subscriber: int, state: str, reason: str) -> None:
        self.services.casm.change_state(self.admin, CasmLevel.SUBSCRIBER, subscriber, state, reason)


@pytest.fixture
def rig(services: Services, admin: Actor, clock: FakeClock) -> Rig:
    clock.current = APRIL_11
    load_wallet_catalog(services, admin)
    load_classes(services, admin)
    services.configuration.create(
        admin,
        ConfigKind.STATE_REASON,
        {"code": "FRAUD", "name": "Fraud check", "state": "SUSPENDED", "charged": False},
    )
    yield Rig(services, admin, clock)
    assert_balances_explained(services)


def _count(services: Services, table: sa.Table) -> int:
    with services.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# -- pro-rating -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "activated", "expected"),
    [
        ("NONE", APRIL_11, HUNDRED_MINUTES_S),
        # 20 whole days of 30 remain.
        ("DAILY", APRIL_11, HUNDRED_MINUTES_S * 20 // 30),
        # At noon only 19 whole days remain.
        ("DAILY", APRIL_11 + timedelta(hours=12), HUNDRED_MINUTES_S * 19 // 30),
        # 19.5 days of seconds remain of 30 days.
        ("EXACT", APRIL_11 + timedelta(hours=12), HUNDRED_MINUTES_S * 1_684_800 // 2_592_000),
        # One second before the month ends: 1 s of 2,592,000 rounds down to nothing.
        ("EXACT", datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC), 0),
    ],
)
def test_prorate_when_activated_mid_month(
    rig: Rig, mode: str, activated: datetime, expected: int
) -> None:
    rig.at(activated)
    service = recurrent("V", prorate_when_activated=True, prorate_mode=mode)
    subscriber = rig.subscribe(service)
    rig.run()
    [grant] = rig.grants(subscriber)
    assert grant.granted == expected
    assert grant.period_start == datetime(2026, 4, 1, tzinfo=UTC)
    assert grant.period_end == datetime(2026, 5, 1, tzinfo=UTC)
    assert rig.held(subscriber, "V-BAL") == expected
    assert (grant.bucket_id is None) == (expected == 0)


def test_without_prorate_flag_the_first_period_is_granted_in_full(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V", prorate_mode="DAILY"))
    rig.run()
    assert [g.granted for g in rig.grants(subscriber)] == [HUNDRED_MINUTES_S]


def test_prorate_when_not_charged_counts_the_suspended_days(rig: Rig) -> None:
    service = recurrent("V", prorate_when_not_charged=True, prorate_mode="DAILY")
    subscriber = rig.subscribe(service)
    rig.run()
    rig.at(datetime(2026, 4, 25, tzinfo=UTC))
    rig.state(subscriber, "SUSPENDED", "FRAUD")
    rig.at(datetime(2026, 5, 5, tzinfo=UTC))
    rig.run()
    assert len(rig.grants(subscriber)) == 1, "no grant while suspended without charging"
    rig.at(datetime(2026, 5, 11, tzinfo=UTC))
    rig.state(subscriber, "ACTIVE", "NEW")
    rig.run()
    grants = rig.grants(subscriber)
    # May has 31 days; 21 whole days remain from the 11th.
    assert [g.granted for g in grants] == [HUNDRED_MINUTES_S, HUNDRED_MINUTES_S * 21 // 31]


def test_suspension_with_a_charged_reason_keeps_the_full_grant(rig: Rig) -> None:
    service = recurrent("V", prorate_when_not_charged=True, prorate_mode="DAILY")
    subscriber = rig.subscribe(service)
    rig.state(subscriber, "SUSPENDED", "DEBT")
    rig.at(datetime(2026, 5, 1, 1, tzinfo=UTC))
    rig.run()
    assert [g.granted for g in rig.grants(subscriber)] == [HUNDRED_MINUTES_S] * 2


def test_a_period_spent_suspended_without_charging_grants_nothing(rig: Rig) -> None:
    service = recurrent("V", prorate_when_not_charged=True, prorate_mode="EXACT")
    subscriber = rig.subscribe(service)
    rig.run()
    rig.state(subscriber, "SUSPENDED", "FRAUD")
    rig.at(datetime(2026, 6, 3, tzinfo=UTC))
    rig.state(subscriber, "ACTIVE", "NEW")
    rig.run()
    grants = rig.grants(subscriber)
    # May: nothing chargeable, a zero grant; June: from the 3rd, 28 of 30 days in seconds.
    assert [(g.period_index, g.granted) for g in grants] == [
        (0, HUNDRED_MINUTES_S),
        (1, 0),
        (2, HUNDRED_MINUTES_S * (28 * DAY_S) // (30 * DAY_S)),
    ]
    assert grants[1].bucket_id is None


# -- validity, units, recurrence modes ------------------------------------------------------------


def test_balance_service_grants_once_and_expires_after_its_validity(rig: Rig) -> None:
    service = {
        "code": "DATA7", "name": "Data week", "service_provider": "SP1", "kind": "BALANCE",
        "unit": "GIGABYTE", "granted": 2, "validity": 7, "validity_unit": "DAY",
        "charging_classes": ["DATA"], "thresholds_pct": [50, 80, 100], "reject_at_full": True,
    }  # fmt: skip
    subscriber = rig.subscribe(service)
    rig.run()
    [grant] = rig.grants(subscriber)
    assert grant.granted == 2 * 10**9
    assert grant.thresholds_pct == (50, 80, 100)
    assert grant.reject_at_full
    assert grant.notified_thresholds_pct == ()
    assert rig.buckets(subscriber, "DATA7-BAL") == [(2 * 10**9, APRIL_11 + timedelta(days=7))]
    rig.clock.advance(7 * DAY_S - 1)
    rig.run()
    assert rig.held(subscriber, "DATA7-BAL") == 2 * 10**9
    rig.clock.advance(1)
    rig.run()
    assert rig.held(subscriber, "DATA7-BAL") == 0
    assert len(rig.grants(subscriber)) == 1, "a Balance service grants once"
    with rig.services.engine.connect() as conn:
        types = list(conn.scalars(sa.select(t.edrs.c.type).order_by(t.edrs.c.id)))
    assert types[-2:] == [EdrType.RECHARGE.value, EdrType.EXPIRY.value]


def test_recurrence_cycles_stop_after_n_grants(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V", recurrence_cycles=3))
    for month in range(4, 11):
        rig.at(datetime(2026, month, 1, 0, 30, tzinfo=UTC))
        rig.run()
    assert [g.period_index for g in rig.grants(subscriber)] == [0, 1, 2]


def test_execute_immediately_off_starts_with_the_next_period(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V", execute_immediately=False))
    rig.run()
    assert rig.grants(subscriber) == []
    rig.at(datetime(2026, 5, 1, tzinfo=UTC))
    rig.run()
    [grant] = rig.grants(subscriber)
    assert (grant.period_index, grant.period_start) == (1, datetime(2026, 5, 1, tzinfo=UTC))


def test_activation_anniversary_periods_follow_the_first_activation(rig: Rig) -> None:
    rig.at(APRIL_11 + timedelta(hours=9))
    subscriber = new_subscriber(rig.services, rig.admin)
    rig.state(subscriber, "SUSPENDED", "DEBT")  # created ACTIVE at 09:00
    rig.subscribe(recurrent("V", create_balance_at="ACTIVATION_ANNIVERSARY"), subscriber)
    rig.at(datetime(2026, 5, 11, 9, tzinfo=UTC))
    rig.run()
    starts = [g.period_start for g in rig.grants(subscriber)]
    assert starts == [APRIL_11 + timedelta(hours=9), datetime(2026, 5, 11, 9, tzinfo=UTC)]


def test_inactive_subscriber_starts_its_periods_when_activated(rig: Rig) -> None:
    account = new_account(rig.services, rig.admin)
    from ocs.service.casm import SubscriberInput
    from ocs.service.wallet_ledger import WalletInput

    inp = SubscriberInput("31699000001", account_id=account, state="INACTIVE",
                          state_reason="PREP", wallet=WalletInput(product_type="PT"))  # fmt: skip
    subscriber = rig.services.casm.create_subscriber(rig.admin, inp).subscriber.id
    service = recurrent("V", create_balance_at="ACTIVATION_ANNIVERSARY", period_unit="WEEK")
    rig.subscribe(service, subscriber)
    rig.run()
    assert rig.grants(subscriber) == []
    rig.at(datetime(2026, 4, 13, 8, tzinfo=UTC))
    rig.state(subscriber, "ACTIVE", "NEW")
    rig.run()
    [grant] = rig.grants(subscriber)
    assert grant.period_start == datetime(2026, 4, 13, 8, tzinfo=UTC)
    assert grant.period_end == datetime(2026, 4, 20, 8, tzinfo=UTC)


def test_billing_cycle_periods_follow_the_billing_day(rig: Rig) -> None:
    rig.services.configuration.create(
        rig.admin,
        ConfigKind.BILLING_CYCLE,
        {"code": "M15", "name": "Monthly 15th", "duration": 1, "duration_unit": "MONTH",
         "billing_day": 15},
    )  # fmt: skip
    from ocs.service.casm import AccountInput

    customer = rig.services.casm.get_account(rig.admin, new_account(rig.services, rig.admin))
    account = rig.services.casm.create_account(
        rig.admin,
        AccountInput(customer_id=customer.customer_id, account_type="PAYER", billing_cycle="M15"),
    )
    subscriber = new_subscriber(rig.services, rig.admin, account_id=account.id)
    service = recurrent("V", create_balance_at="BILLING_CYCLE", prorate_when_activated=True,
                        prorate_mode="DAILY")  # fmt: skip
    rig.subscribe(service, subscriber)
    rig.at(datetime(2026, 4, 15, 0, 1, tzinfo=UTC))
    rig.run()
    grants = rig.grants(subscriber)
    assert [(g.period_start.day, g.period_end and g.period_end.day) for g in grants] == [
        (15, 15),
        (15, 15),
    ]
    # Activated on 11 April in the period 15 March - 15 April (31 days): 4 whole days remain.
    assert [g.granted for g in grants] == [HUNDRED_MINUTES_S * 4 // 31, HUNDRED_MINUTES_S]


# -- rollover -----------------------------------------------------------------------------------


def test_rollover_is_kept_for_its_periods_then_dropped(rig: Rig) -> None:
    service = recurrent("V", rollover_periods=1, rollover_priority="ROLLOVER_FIRST")
    subscriber = rig.subscribe(service)
    rig.run()
    rig.charge(subscriber, "V-BAL", 1000)
    rig.at(datetime(2026, 5, 1, tzinfo=UTC))
    rig.run()
    june, july = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    # The rollover lives through May; the May grant may roll over until the end of June.
    assert rig.buckets(subscriber, "V-BAL") == [(5000, june), (HUNDRED_MINUTES_S, july)]
    rig.at(june)
    rig.run()
    # April's rollover is gone; May's 6000 unconsumed units rolled over into June.
    aug = datetime(2026, 8, 1, tzinfo=UTC)
    assert rig.buckets(subscriber, "V-BAL") == [(6000, july), (HUNDRED_MINUTES_S, aug)]
    with rig.services.engine.connect() as conn:
        rows = list(conn.execute(sa.select(o.grant_rollovers).order_by(o.grant_rollovers.c.id)))
    assert [(r.period_index, r.value, r.dropped_at) for r in rows] == [
        (0, 5000, june),
        (1, 6000, None),
    ]


@pytest.mark.parametrize("priority", ["NEW_FIRST", "ROLLOVER_FIRST"])
def test_rollover_priority_decides_which_bucket_is_charged_first(rig: Rig, priority: str) -> None:
    service = recurrent("V", rollover_periods=2, rollover_priority=priority)
    subscriber = rig.subscribe(service)
    rig.run()
    rig.charge(subscriber, "V-BAL", 2000)
    for month in (5, 6):
        rig.at(datetime(2026, month, 1, 1, tzinfo=UTC))
        rig.run()
        before = rig.buckets(subscriber, "V-BAL")
        rig.charge(subscriber, "V-BAL", 100)
        after = rig.buckets(subscriber, "V-BAL")
        changed = [b for b in before if b not in after]
        assert len(changed) == 1
        value, expires_at = changed[0]
        # The new grant of this month expires when its own rollover life ends.
        new_grant_expiry = datetime(2026, month + 3, 1, tzinfo=UTC)
        is_new_grant = value == HUNDRED_MINUTES_S and expires_at == new_grant_expiry
        assert is_new_grant == (priority == "NEW_FIRST"), (before, after)


# -- the scheduler ------------------------------------------------------------------------------


def test_catch_up_after_downtime_grants_each_missed_period_once(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V", period_unit="WEEK"))
    rig.at(APRIL_11 + timedelta(days=70))
    rig.run()
    rig.run()
    grants = rig.grants(subscriber)
    # Calendar weeks from Monday 6 April to the week containing 20 June: 11 periods.
    assert [g.period_index for g in grants] == list(range(11))
    assert grants[0].period_start == datetime(2026, 4, 6, tzinfo=UTC)
    # Only the current week's grant is left; the others expired with an EDR.
    assert rig.held(subscriber, "V-BAL") == HUNDRED_MINUTES_S


def test_a_clock_jumping_backwards_grants_nothing_new(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V"))
    rig.at(datetime(2026, 6, 2, tzinfo=UTC))
    rig.run()
    assert len(rig.grants(subscriber)) == 3
    rig.at(datetime(2026, 4, 20, tzinfo=UTC))
    rig.run()
    rig.at(datetime(2026, 6, 20, tzinfo=UTC))
    rig.run()
    assert [g.period_index for g in rig.grants(subscriber)] == [0, 1, 2]


def test_two_threads_running_at_once_grant_each_period_once(rig: Rig) -> None:
    subscribers = [rig.subscribe(recurrent(f"V{i}")) for i in range(3)]
    rig.at(datetime(2026, 7, 2, tzinfo=UTC))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            rig.services.grants.run_due()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(rig.services, o.balance_grants) == 3 * 4
    for i, subscriber in enumerate(subscribers):
        assert [g.period_index for g in rig.grants(subscriber)] == [0, 1, 2, 3]
        assert rig.held(subscriber, f"V{i}-BAL") == HUNDRED_MINUTES_S


class _CrashingGrants(GrantService):
    def _granted(
        self,
        uow: UnitOfWork,
        grant: BalanceGrant,
        service: BalanceService,
        plan: _Plan,
        now: datetime,
    ) -> None:
        super()._granted(uow, grant, service, plan, now)
        raise RuntimeError("power lost before the commit")


def test_a_crash_before_the_commit_grants_nothing_and_the_next_run_grants_once(
    rig: Rig,
) -> None:
    subscriber = rig.subscribe(recurrent("V", on_recurrence_notify=True))
    edrs_before = _count(rig.services, t.edrs)
    _CrashingGrants(rig.services.store, rig.clock).run_due()
    assert rig.grants(subscriber) == []
    assert rig.held(subscriber, "V-BAL") == 0
    assert _count(rig.services, t.edrs) == edrs_before
    assert _count(rig.services, notification_outbox) == 0
    rig.run()
    rig.run()
    assert [g.granted for g in rig.grants(subscriber)] == [HUNDRED_MINUTES_S]
    assert rig.held(subscriber, "V-BAL") == HUNDRED_MINUTES_S


def test_recurrence_notification_is_enqueued_once_per_grant(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V", on_recurrence_notify=True))
    rig.run()
    rig.at(datetime(2026, 5, 1, tzinfo=UTC))
    rig.run()
    rig.run()
    ids = [g.id for g in rig.grants(subscriber)]
    with rig.services.engine.connect() as conn:
        rows = list(conn.execute(sa.select(notification_outbox).order_by(notification_outbox.c.id)))
    assert [(r.kind, r.subscriber_id, r.dedup_key) for r in rows] == [
        ("RECURRENCE", subscriber, f"grant:{grant_id}:recurrence") for grant_id in ids
    ]


def test_ended_subscription_grants_no_further_periods(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V"))
    rig.run()
    [subscription] = rig.services.offers.subscriptions_of_subscriber(rig.admin, subscriber)
    rig.services.offers.end_subscription(
        rig.admin, subscription.id, datetime(2026, 5, 20, tzinfo=UTC)
    )
    rig.at(datetime(2026, 8, 1, tzinfo=UTC))
    rig.run()
    assert [g.period_index for g in rig.grants(subscriber)] == [0, 1]
    [ended] = rig.services.offers.subscriptions_of_subscriber(rig.admin, subscriber)
    assert ended.state == "ENDED"


# -- catalogue and subscriptions ------------------------------------------------------------------


def test_service_creates_its_balance_type_consumed_for_sub_classes(rig: Rig) -> None:
    service = rig.services.offers.create_service(
        rig.admin, recurrent("V", include_sub_classes=True, unit="MONEY", currency="EUR")
    )
    with rig.services.store.transaction() as uow:
        balance_type = uow.config.get(ConfigKind.BALANCE_TYPE, service.balance_type)
        catalog = load_catalog(uow, rig.clock.now())
    assert balance_type is not None
    assert (balance_type["unit"], balance_type["category"]) == ("MONEY", "EXPENDITURE")
    assert catalog.scoped_balance_types(["VOICE-NAT", "VOICE", "ALL"]) == ["V-BAL"]
    assert catalog.scoped_balance_types(["DATA", "ALL"]) == []


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"charging_classes": ["NOPE"]}, "charging_classes[0]", ProblemKind.UNKNOWN_REFERENCE),
        ({"thresholds_pct": [80, 50]}, "thresholds_pct[1]", ProblemKind.INVALID_VALUE),
        ({"thresholds_pct": [0]}, "thresholds_pct[0]", ProblemKind.INVALID_VALUE),
        ({"thresholds_pct": [50, 101]}, "thresholds_pct[1]", ProblemKind.INVALID_VALUE),
        ({"granted": 0}, "granted", ProblemKind.INVALID_VALUE),
        ({"unit": "FURLONG"}, "unit", ProblemKind.INVALID_VALUE),
        ({"recurrence_cycles": 0}, "recurrence_cycles", ProblemKind.INVALID_VALUE),
        ({"every": 0}, "every", ProblemKind.INVALID_VALUE),
        ({"prorate_mode": "HOURLY"}, "prorate_mode", ProblemKind.INVALID_VALUE),
        ({"unit": "MONEY"}, "currency", ProblemKind.MISSING_FIELD),
        ({"validity": 3, "validity_unit": "DAY"}, "validity", ProblemKind.INVALID_VALUE),
    ],
)
def test_invalid_service_names_the_field_and_changes_nothing(
    rig: Rig, change: dict[str, object], field: str, kind: ProblemKind
) -> None:
    with pytest.raises(DomainError) as caught:
        rig.services.offers.create_service(rig.admin, recurrent("V", **change))
    assert (caught.value.field, caught.value.kind) == (field, kind)
    assert rig.services.offers.list_services(rig.admin) == []
    with rig.services.store.transaction() as uow:
        assert uow.config.get(ConfigKind.BALANCE_TYPE, "V-BAL") is None


def test_deactivated_subscriber_takes_no_subscription(rig: Rig) -> None:
    offer = offer_with(rig.services, rig.admin, recurrent("V"))
    subscriber = new_subscriber(rig.services, rig.admin)
    rig.state(subscriber, "DEACTIVATED", "CHURN")
    with pytest.raises(DomainError) as caught:
        rig.services.offers.subscribe(
            rig.admin, SubscriptionInput(offer.code, "subscriber", subscriber)
        )
    assert caught.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE


def test_account_level_subscription_grants_into_the_named_wallet(rig: Rig) -> None:
    offer = offer_with(rig.services, rig.admin, recurrent("V"))
    account = new_account(rig.services, rig.admin)
    holder = new_subscriber(rig.services, rig.admin, account_id=account)
    with pytest.raises(DomainError) as caught:
        rig.services.offers.subscribe(rig.admin, SubscriptionInput(offer.code, "account", account))
    assert (caught.value.kind, caught.value.field) == (ProblemKind.MISSING_FIELD, "wallet_id")
    outsider = new_subscriber(rig.services, rig.admin)
    inp = SubscriptionInput(offer.code, "account", account, wallet_id=rig.wallet(outsider))
    with pytest.raises(DomainError) as caught:
        rig.services.offers.subscribe(rig.admin, inp)
    assert caught.value.field == "wallet_id"
    inp = SubscriptionInput(offer.code, "account", account, wallet_id=rig.wallet(holder))
    rig.services.offers.subscribe(rig.admin, inp)
    rig.run()
    assert [g.granted for g in rig.grants(holder)] == [HUNDRED_MINUTES_S]
    listed = rig.services.offers.subscriptions_of_subscriber(rig.admin, holder)
    assert [(s.level, s.entity_id) for s in listed] == [("account", account)]


def test_deactivation_stops_the_grants_and_ends_the_subscription(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V"))
    rig.at(datetime(2026, 5, 20, tzinfo=UTC))
    rig.run()
    rig.state(subscriber, "DEACTIVATED", "CHURN")
    rig.at(datetime(2026, 7, 2, tzinfo=UTC))
    rig.run()
    assert [g.period_index for g in rig.grants(subscriber)] == [0, 1]
    [ended] = rig.services.offers.subscriptions_of_subscriber(rig.admin, subscriber)
    assert ended.state == "ENDED"


def test_a_run_with_nothing_due_does_not_wait_for_a_writer(rig: Rig) -> None:
    subscriber = rig.subscribe(recurrent("V"))
    rig.run()  # activates the subscription and grants its first period
    assert len(rig.grants(subscriber)) == 1
    with writer_holding_the_database(rig.services):
        assert run_beside(rig.services.grants.run_due) == GrantRun()
    rig.at(datetime(2026, 5, 1, tzinfo=UTC))
    rig.run()  # the next period is due: the run writes as before
    assert len(rig.grants(subscriber)) == 2
