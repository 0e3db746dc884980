"""The charging engine on SQLite and PostgreSQL: sessions, reservations, events, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.charging import (
    ChargingDecision,
    ChargingRequest,
    FinalUnitAction,
    IdentityType,
    Outcome,
    RequestedAction,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrQuery, EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.reservations import ChargingSession, ReservationState, SessionState
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor
from ocs.service.charging import ChargingEngine, ChargingSettings
from ocs.service.cugs import CugInput
from ocs.service.group_commit import GroupCommitter, Job, JobResult, run_batch
from ocs.service.offers import SubscriptionInput
from ocs.service.ports import Store
from ocs.service.reservations import ReservationService
from ocs.service.subscriber_features import FriendsInput
from ocs.service.wallets import WalletService, WalletUpdate
from ocs.storage.notification_tables import notification_outbox
from ocs.storage.sqlite_triggers import run_without_triggers
from tests.support.catalog import PROVIDER
from tests.support.charging import (
    DATA_RG,
    MB,
    SMS_RG,
    VOICE_RG,
    load_charging_catalog,
    provision_subscriber,
)
from tests.support.clock import FakeClock
from tests.support.offers import offer_with


@dataclass
class World:
    services: Services
    wallets: WalletService
    engine: ChargingEngine
    clock: FakeClock
    admin: Actor
    wallet_id: int
    # The engine's own connections, set up as in its process: on SQLite they fire no triggers
    # and the engine does their work itself (ADR 0011); operators write through `services`.
    engine_store: Store
    sessions: int = 0

    def process(self, request: ChargingRequest) -> ChargingDecision:
        """One request charged as the engine process charges a batch."""
        ((decision, error),) = self.engine.charge_batch(self.engine_store, [request])
        if error is not None:
            raise error
        assert isinstance(decision, ChargingDecision)
        return decision

    def run_batch(self, jobs: list[Job]) -> list[JobResult]:
        """Jobs of the engine's in one transaction, begun and ended as charge_batch does."""
        engine = self.engine
        return run_batch(
            self.engine_store, jobs, prepare=engine.begin_batch, ended=engine.end_batch
        )

    def balance(self, balance_type: str = "CASH") -> int:
        view = self.wallets.get_wallet(self.admin, self.wallet_id)
        return next(b.total_value for b in view.balances if b.balance_type == balance_type)

    def request(
        self,
        kind: RequestType,
        number: int,
        *services: ServiceRequest,
        session: str = "s1",
        msisdn: str = "31600000001",
        action: RequestedAction | None = None,
        called: str | None = None,
    ) -> ChargingRequest:
        return ChargingRequest(
            session_id=session,
            request_number=number,
            request_type=kind,
            identities=((IdentityType.E164, msisdn),),
            event_time=self.clock.now(),
            services=services,
            requested_action=action,
            called_party=called,
        )


@pytest.fixture
def world(services: Services, database_url: str, admin: Actor, clock: FakeClock) -> Iterator[World]:
    load_charging_catalog(services, admin)
    wallet_id = provision_subscriber(services, admin, "31600000001")
    wallets = WalletService(services.store, clock)
    wallets.top_up(admin, wallet_id, "CASH", 100)  # 1.00 EUR
    engine = ChargingEngine(clock, ChargingSettings(validity_time_s=600, session_timeout_s=900))
    engine_side = build_services(Settings(database_url=database_url), clock)
    run_without_triggers(engine_side.engine)
    yield World(services, wallets, engine, clock, admin, wallet_id, engine_side.store)
    engine_side.engine.dispose()


def _data(requested: int | None = None, used: int | None = None) -> ServiceRequest:
    return ServiceRequest(
        DATA_RG,
        requested=None if requested is None else UnitAmounts(total_octets=requested),
        used=None if used is None else UnitAmounts(total_octets=used),
    )


def _edr_sum_matches(world: World) -> None:
    with world.services.store.transaction() as uow:
        sums = uow.edrs.delta_sums(world.wallet_id)
    view = world.wallets.get_wallet(world.admin, world.wallet_id)
    for balance in view.balances:
        assert sums.get(balance.balance_type, 0) == balance.total_value, balance.balance_type


def test_session_reserves_commits_and_releases(world: World) -> None:
    first = world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    assert first.outcome is Outcome.SUCCESS
    granted = first.services[0]
    assert granted.granted == UnitAmounts(total_octets=10 * MB)
    assert (granted.validity_time_s, granted.final_unit_action) == (600, None)
    assert granted.quota_threshold == 2 * MB
    assert world.balance() == 100  # a reservation holds, it does not take

    update = world.process(world.request(RequestType.UPDATE, 1, _data(10 * MB, used=3 * MB)))
    assert update.outcome is Outcome.SUCCESS
    assert world.balance() == 94  # 3 MB at 2 cents

    end = world.process(world.request(RequestType.TERMINATION, 2, _data(used=MB + 1)))
    assert end.outcome is Outcome.SUCCESS
    assert world.balance() == 90  # started MB rounding: 2 MB for MB + 1 octets
    with world.services.store.transaction() as uow:
        assert uow.charging.holds_of_wallet(world.wallet_id) == {}
        reservations = uow.charging.list_reservations(world.wallet_id, 10)
    assert {r.state for r in reservations} == {ReservationState.COMMITTED}
    assert sorted(r.used_units for r in reservations) == [MB + 1, 3 * MB]
    _edr_sum_matches(world)


def test_first_use_activates_a_pre_use_wallet(world: World) -> None:
    view = world.wallets.get_wallet(world.admin, world.wallet_id)
    assert view.wallet.state is WalletState.PRE_USE
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=MB)))
    assert world.wallets.get_wallet(world.admin, world.wallet_id).wallet.state is (
        WalletState.ACTIVE
    )


def test_retransmission_gets_the_first_answer_and_charges_once(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    update = world.request(RequestType.UPDATE, 1, _data(10 * MB, used=5 * MB))
    first = world.process(update)
    again = world.process(update)
    assert again == first
    assert world.balance() == 90
    _edr_sum_matches(world)


def test_prepaid_grant_is_limited_and_then_refused(world: World) -> None:
    first = world.process(world.request(RequestType.INITIAL, 0, _data(requested=80 * MB)))
    service = first.services[0]
    assert service.granted == UnitAmounts(total_octets=50 * MB)  # 1.00 EUR at 2 cents per MB
    assert service.final_unit_action is FinalUnitAction.TERMINATE
    other = world.process(world.request(RequestType.INITIAL, 0, _data(requested=MB), session="s2"))
    assert other.outcome is Outcome.CREDIT_LIMIT_REACHED  # all cash is held by s1
    assert other.services[0].outcome is Outcome.CREDIT_LIMIT_REACHED


def test_used_units_beyond_the_grant_never_take_prepaid_below_zero(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=50 * MB)))
    world.process(world.request(RequestType.TERMINATION, 1, _data(used=70 * MB)))
    assert world.balance() == 0
    with world.services.store.transaction() as uow:
        page = uow.edrs.delta_sums(world.wallet_id)
    assert page["CASH"] == 0
    _edr_sum_matches(world)


def test_free_units_are_consumed_before_cash(world: World) -> None:
    world.wallets.top_up(world.admin, world.wallet_id, "FREE-DATA", 4 * MB)
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    world.process(world.request(RequestType.TERMINATION, 1, _data(used=6 * MB)))
    assert world.balance("FREE-DATA") == 0
    assert world.balance() == 96
    _edr_sum_matches(world)


def test_unknown_user_session_and_rating_group(world: World) -> None:
    unknown = world.process(
        world.request(RequestType.INITIAL, 0, _data(requested=MB), msisdn="999")
    )
    assert unknown.outcome is Outcome.USER_UNKNOWN
    lost = world.process(world.request(RequestType.UPDATE, 1, _data(MB, used=MB), session="zz"))
    assert lost.outcome is Outcome.UNKNOWN_SESSION
    odd = world.process(
        world.request(
            RequestType.INITIAL, 0, ServiceRequest(99, requested=UnitAmounts()), session="s3"
        )
    )
    assert odd.outcome is Outcome.RATING_FAILED
    assert world.balance() == 100


def test_several_rating_groups_in_one_request(world: World) -> None:
    voice = ServiceRequest(VOICE_RG, requested=UnitAmounts(time_s=120))
    decision = world.process(
        world.request(RequestType.INITIAL, 0, _data(requested=MB), voice, called="+3120555")
    )
    assert [s.outcome for s in decision.services] == [Outcome.SUCCESS, Outcome.SUCCESS]
    voice_used = ServiceRequest(VOICE_RG, used=UnitAmounts(time_s=61))
    world.process(world.request(RequestType.TERMINATION, 1, _data(used=MB), voice_used,
                                called="+3120555"))  # fmt: skip
    assert world.balance() == 100 - 2 - 12  # 1 MB data, 2 started minutes at the NL rate


def test_maximum_concurrent_accesses(world: World) -> None:
    for session in ("a", "b"):
        ok = world.process(world.request(RequestType.INITIAL, 0, _data(requested=MB),
                                         session=session))  # fmt: skip
        assert ok.outcome is Outcome.SUCCESS
    third = world.process(world.request(RequestType.INITIAL, 0, _data(requested=MB), session="c"))
    assert third.outcome is Outcome.END_USER_SERVICE_DENIED
    assert "maximum concurrent accesses (2)" in (third.detail or "")


def test_reservations_expire_and_release_their_hold(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=50 * MB)))
    world.clock.advance(600 + 61)
    with world.engine_store.transaction() as uow:
        assert world.engine.expire(uow) == 1
        assert uow.charging.holds_of_wallet(world.wallet_id) == {}
    again = world.process(world.request(RequestType.INITIAL, 0, _data(MB), session="s2"))
    assert again.outcome is Outcome.SUCCESS
    assert world.balance() == 100


def test_the_session_timer_moves_in_steps_and_never_cuts_the_timeout(world: World) -> None:
    # Timeout 900 s: steps of 9 s. The expiry is written only when a request would otherwise
    # leave less than the timeout; in between, it stays (and so does its index entry).
    started = world.clock.now()

    def session() -> ChargingSession:
        with world.engine_store.transaction() as uow:
            found = uow.charging.get_session("s1")
        assert found is not None
        return found

    def expiry() -> timedelta:
        return session().expires_at - started

    def sweep() -> None:
        with world.engine_store.transaction() as uow:
            world.engine.expire(uow)

    world.process(world.request(RequestType.INITIAL, 0, _data(requested=MB)))
    assert expiry() == timedelta(seconds=909)
    world.clock.advance(5)
    world.process(world.request(RequestType.UPDATE, 1, _data(MB, used=MB)))
    assert expiry() == timedelta(seconds=909)  # 905 s would do: unchanged
    world.clock.advance(5)
    world.process(world.request(RequestType.UPDATE, 2, _data(MB, used=MB)))
    assert expiry() == timedelta(seconds=919)  # 910 s needed: one more step
    world.clock.advance(900 - 1)  # a second short of the timeout after the last request
    sweep()
    assert session().state is SessionState.OPEN
    world.clock.advance(9 + 1)  # past the step too
    sweep()
    assert session().state is SessionState.CLOSED
    with world.engine_store.transaction() as uow:
        assert uow.charging.holds_of_wallet(world.wallet_id) == {}


def test_events_debit_refund_check_and_price(world: World) -> None:
    sms = ServiceRequest(SMS_RG, requested=UnitAmounts(service_specific_units=2))
    debit = world.process(world.request(RequestType.EVENT, 0, sms, session="e1",
                                        action=RequestedAction.DIRECT_DEBITING))  # fmt: skip
    assert debit.outcome is Outcome.SUCCESS
    assert world.balance() == 90
    price = world.process(world.request(RequestType.EVENT, 0, sms, session="e2",
                                        action=RequestedAction.PRICE_ENQUIRY))  # fmt: skip
    assert (price.outcome, price.cost_minor) == (Outcome.SUCCESS, 10)
    refund = world.process(world.request(RequestType.EVENT, 0, sms, session="e3",
                                         action=RequestedAction.REFUND_ACCOUNT))  # fmt: skip
    assert refund.outcome is Outcome.SUCCESS
    assert world.balance() == 100
    check = world.process(world.request(RequestType.EVENT, 0, session="e4",
                                        action=RequestedAction.CHECK_BALANCE))  # fmt: skip
    assert check.balance_minor == 100
    too_many = ServiceRequest(SMS_RG, requested=UnitAmounts(service_specific_units=21))
    refused = world.process(world.request(RequestType.EVENT, 0, too_many, session="e5",
                                          action=RequestedAction.DIRECT_DEBITING))  # fmt: skip
    assert refused.outcome is Outcome.CREDIT_LIMIT_REACHED
    assert world.balance() == 100
    with world.services.store.transaction() as uow:
        types = [e.type for e in uow.edrs.search(_query(world.wallet_id), [world.wallet_id])[0]]
    assert types.count(EdrType.CHARGE) == 1
    assert types.count(EdrType.REFUND) == 1
    _edr_sum_matches(world)


def _query(wallet_id: int) -> EdrQuery:
    return EdrQuery(wallet_id=wallet_id, page_size=100)


def test_concurrent_sessions_on_one_prepaid_wallet_never_overspend(world: World) -> None:
    world.wallets.update_wallet(
        world.admin, world.wallet_id, WalletUpdate(max_concurrent_accesses=50)
    )
    committer = GroupCommitter(world.engine_store)
    committer.start()

    async def session(n: int) -> list[ChargingDecision]:
        name = f"c{n}"
        initial = world.request(RequestType.INITIAL, 0, _data(requested=20 * MB), session=name)
        first = await committer.submit(partial(world.engine.process, request=initial))
        final = world.request(RequestType.TERMINATION, 1, _data(used=30 * MB), session=name)
        last = await committer.submit(partial(world.engine.process, request=final))
        return [first, last]

    async def run() -> list[list[ChargingDecision]]:
        return await asyncio.gather(*(session(n) for n in range(12)))

    try:
        results = asyncio.run(run())
    finally:
        committer.stop()
    granted = [first for first, _ in results if first.outcome is Outcome.SUCCESS]
    refused = [first for first, _ in results if first.outcome is Outcome.CREDIT_LIMIT_REACHED]
    # 1.00 EUR buys 50 MB: two 20 MB grants and one 10 MB grant, then nothing is left to hold.
    assert len(granted) == 3
    assert len(refused) == 9
    assert world.balance() == 0  # each session used more than granted, yet never below zero
    _edr_sum_matches(world)


def test_operator_commits_revokes_and_deletes_reservations(world: World) -> None:
    service = ReservationService(world.services.store, world.clock, world.engine)
    for session in ("a", "b"):
        world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB),
                                    session=session))  # fmt: skip
    balances = {b.balance_type: b for b in service.balances(world.admin, world.wallet_id)}
    assert (balances["CASH"].total, balances["CASH"].reserved, balances["CASH"].available) == (
        100, 40, 60,
    )  # fmt: skip
    views = service.reservations(world.admin, world.wallet_id)
    assert [v.holds for v in views] == [{"CASH": 20}, {"CASH": 20}]
    first, second = sorted(v.reservation.id for v in views)
    committed = service.act(world.admin.with_reason("customer asked"), first, "commit")
    assert committed.reservation.state is ReservationState.COMMITTED
    assert committed.reservation.ended_by == "operator"
    assert world.balance() == 80
    deleted = service.act(world.admin, second, "delete")
    assert deleted.reservation.state is ReservationState.DELETED
    assert world.balance() == 80
    with pytest.raises(DomainError) as again:
        service.act(world.admin, second, "revoke")
    assert (again.value.kind, again.value.field) == (ProblemKind.CONFLICT, "reservation_id")
    assert "already ended: DELETED" in again.value.detail
    with world.services.store.transaction() as uow:
        edrs = uow.edrs.search(_query(world.wallet_id), [world.wallet_id])[0]
    by_type = {e.type: e for e in edrs}
    charge = by_type[EdrType.CHARGE]
    assert (charge.operator, charge.change_reason) == ("tester", "customer asked")
    assert by_type[EdrType.RESERVATION].detail == {"reservation": second, "action": "DELETED"}
    _edr_sum_matches(world)


def test_calls_are_translated_barred_and_rated_by_their_closed_user_group(world: World) -> None:
    services, admin = world.services, world.admin
    cfg = services.configuration
    cfg.create(admin, ConfigKind.TARIFF_PLAN, {"code": "CUG", "name": "Group", "currency": "EUR"})
    cfg.create(admin, ConfigKind.TARIFF_RATE, {
        "code": "CUG-VOICE", "name": "Group voice", "tariff_plan": "CUG",
        "charging_class": "VOICE", "unit": "SECONDS", "price": 1, "unit_size": 60,
        "rounding_unit": 60,
    })  # fmt: skip
    world.engine.invalidate_catalog()
    provision_subscriber(services, admin, "31600000002")
    me = services.casm.find_subscriber_by_resource(admin, "31600000001").subscriber.id
    features = services.features
    features.cugs.create(admin, CugInput(tariff_plan="CUG", members=("31600000001", "31600000002"),
                                         name="Office", service_provider=PROVIDER))  # fmt: skip
    features.subscribers.set_subscriber_short_codes(admin, me, [("123", "3120555")])
    features.subscribers.set_call_barring(admin, me, "BARRED", False, ["3190"])
    voice = ServiceRequest(VOICE_RG, requested=UnitAmounts(time_s=120))

    def call(session: str, called: str) -> ChargingDecision:
        return world.process(world.request(RequestType.EVENT, 0, voice, session=session,
                                           action=RequestedAction.DIRECT_DEBITING,
                                           called=called))  # fmt: skip

    assert call("inside", "+31600000002").outcome is Outcome.SUCCESS
    assert world.balance() == 98  # two minutes at the group's 1 cent, not the Dutch 6
    assert call("short", "123").outcome is Outcome.SUCCESS
    assert world.balance() == 86  # 123 -> 3120555, two minutes at the Dutch rate
    barred = call("barred", "+31901234")
    assert barred.outcome is Outcome.END_USER_SERVICE_DENIED
    assert barred.detail == "calls to 31901234 are barred (BARRED)"
    assert world.balance() == 86
    _edr_sum_matches(world)


def test_calls_to_friends_are_priced_with_the_product_types_discount(world: World) -> None:
    services, admin = world.services, world.admin
    services.configuration.update(admin, ConfigKind.PRODUCT_TYPE, "PRE", {
        "friends_family_discount_percent": 50, "friends_destination_discount_percent": 25,
    })  # fmt: skip
    world.engine.invalidate_catalog()
    world.wallets.top_up(admin, world.wallet_id, "CASH", 900)
    me = services.casm.find_subscriber_by_resource(admin, "31600000001").subscriber.id
    friends = services.features.subscribers
    voice = ServiceRequest(VOICE_RG, requested=UnitAmounts(time_s=120))

    def call(session: str, called: str) -> ChargingDecision:
        return world.process(world.request(RequestType.EVENT, 0, voice, session=session,
                                           action=RequestedAction.DIRECT_DEBITING,
                                           called=called))  # fmt: skip

    friends.set_friends(admin, me, FriendsInput("FRIENDS_AND_FAMILY", ff_numbers=("3120555",)))
    assert call("friend", "+3120555").outcome is Outcome.SUCCESS
    assert world.balance() == 1000 - 6  # two minutes at half the Dutch 6 cents
    assert call("stranger", "+3120666").outcome is Outcome.SUCCESS
    assert world.balance() == 1000 - 6 - 12
    services.features.provider_lists.put_prefix_mapping(admin, PROVIDER, "3120", "ANN", "1")
    friends.set_friends(
        admin, me, FriendsInput("FRIENDS_AND_DESTINATION", fd_discount_prefix="3120")
    )
    assert call("destination", "+3120777").outcome is Outcome.SUCCESS
    assert world.balance() == 1000 - 6 - 12 - 9  # a quarter off 12 cents
    with services.store.transaction() as uow:
        edrs = uow.edrs.search(_query(world.wallet_id), [world.wallet_id])[0]
    discounts = {e.session_id: e.discounts for e in edrs if e.type is EdrType.CHARGE}
    assert discounts == {
        "friend": "FRIENDS_AND_FAMILY:50%",
        "stranger": None,
        "destination": "FRIENDS_AND_DESTINATION:25%",
    }
    _edr_sum_matches(world)


def test_a_granted_balance_rejects_at_100_percent_and_announces_its_use(world: World) -> None:
    services, admin = world.services, world.admin
    me = services.casm.find_subscriber_by_resource(admin, "31600000001").subscriber.id
    offer = offer_with(services, admin, {
        "code": "FREE5", "name": "Five free MB", "service_provider": PROVIDER, "kind": "BALANCE",
        "unit": "MEGABYTE", "granted": 5, "charging_classes": ["DATA"], "reject_at_full": True,
        "thresholds_pct": [50, 80], "first_usage_notify": True,
    })  # fmt: skip
    services.offers.subscribe(admin, SubscriptionInput(offer.code, "subscriber", me))
    services.grants.run_due()
    world.engine.invalidate_catalog()

    first = world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    assert first.services[0].granted == UnitAmounts(total_octets=5 * MB)  # not a cent of cash
    assert first.services[0].final_unit_action is FinalUnitAction.TERMINATE
    assert _outbox(world) == []
    world.process(world.request(RequestType.UPDATE, 1, _data(5 * MB, used=3 * MB)))
    assert _outbox(world) == [("FIRST_USAGE", "first-usage"), ("THRESHOLD", "threshold:50")]
    last = world.process(world.request(RequestType.UPDATE, 2, _data(5 * MB, used=2 * MB)))
    assert last.services[0].outcome is Outcome.CREDIT_LIMIT_REACHED  # Diameter 4012
    assert _outbox(world)[2:] == [("THRESHOLD", "threshold:80"), ("EXHAUSTED", "exhausted")]
    assert world.balance() == 100
    (grant,) = services.grants.grants_of_wallet(admin, world.wallet_id)
    assert grant.exhausted_at == world.clock.now()
    _edr_sum_matches(world)


def test_a_cost_control_balance_counts_spend_and_stops_it_at_100_percent(world: World) -> None:
    services, admin = world.services, world.admin
    me = services.casm.find_subscriber_by_resource(admin, "31600000001").subscriber.id
    offer = offer_with(services, admin, {
        "code": "CAP30", "name": "30 cents of data a month", "service_provider": PROVIDER,
        "kind": "RECURRENT_COST_CONTROL_BALANCE", "unit": "MONEY", "currency": "EUR",
        "granted": 30, "charging_classes": ["DATA"], "reject_at_full": True,
        "thresholds_pct": [50], "create_balance_at": "CALENDAR", "period_unit": "MONTH",
        "every": 1, "execute_immediately": True,
    })  # fmt: skip
    services.offers.subscribe(admin, SubscriptionInput(offer.code, "subscriber", me))
    services.grants.run_due()
    world.engine.invalidate_catalog()

    first = world.process(world.request(RequestType.INITIAL, 0, _data(requested=50 * MB)))
    # Cash would pay 50 MB; the cost control allows 30 cents, 15 MB at 2 cents.
    assert first.services[0].granted == UnitAmounts(total_octets=15 * MB)
    assert first.services[0].final_unit_action is FinalUnitAction.TERMINATE
    world.process(world.request(RequestType.UPDATE, 1, _data(5 * MB, used=8 * MB)))
    assert world.balance() == 100 - 16  # cash pays; the counter only counts
    assert world.balance("CAP30-BAL") == 30 - 16
    assert ("THRESHOLD", "threshold:50") in _outbox(world)
    last = world.process(world.request(RequestType.UPDATE, 2, _data(50 * MB, used=7 * MB)))
    assert world.balance() == 100 - 30
    assert world.balance("CAP30-BAL") == 0
    assert last.services[0].outcome is Outcome.CREDIT_LIMIT_REACHED
    assert ("EXHAUSTED", "exhausted") in _outbox(world)
    _edr_sum_matches(world)


def _outbox(world: World) -> list[tuple[str, str]]:
    with world.services.engine.connect() as conn:
        rows = conn.execute(
            sa.select(notification_outbox.c.kind, notification_outbox.c.dedup_key).order_by(
                notification_outbox.c.id
            )
        )
        return [(kind, key.split(":", 2)[2]) for kind, key in rows]


# -- the engine's in-memory copy of wallets and sessions ----------------------------------------


def test_an_operator_change_between_updates_is_seen_by_the_next_one(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    world.process(world.request(RequestType.UPDATE, 1, _data(10 * MB, used=MB)))
    world.wallets.change_state(world.admin, world.wallet_id, "FROZEN")
    frozen = world.process(world.request(RequestType.UPDATE, 2, _data(10 * MB, used=MB)))
    assert frozen.services[0].outcome is Outcome.END_USER_SERVICE_DENIED
    world.wallets.change_state(world.admin, world.wallet_id, "ACTIVE")
    world.wallets.top_up(world.admin, world.wallet_id, "CASH", 1000)
    more = world.process(world.request(RequestType.UPDATE, 3, _data(200 * MB)))
    assert more.services[0].granted == UnitAmounts(total_octets=200 * MB)  # needs the top-up
    _edr_sum_matches(world)


def test_a_reservation_revoked_by_an_operator_is_not_released_twice(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    reservations = ReservationService(world.services.store, world.clock, world.engine)
    (view,) = reservations.reservations(world.admin, world.wallet_id)
    reservations.act(world.admin, view.reservation.id, "revoke")
    world.process(world.request(RequestType.UPDATE, 1, _data(10 * MB, used=5 * MB)))
    balances = {b.balance_type: b for b in reservations.balances(world.admin, world.wallet_id)}
    # The revoked reservation held 20; the update's new one holds 20, and nothing went twice.
    assert (balances["CASH"].total, balances["CASH"].reserved) == (100, 20)
    _edr_sum_matches(world)


def test_a_charge_in_a_rolled_back_batch_is_not_kept_in_memory(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    update = world.request(RequestType.UPDATE, 1, _data(10 * MB, used=5 * MB))

    def fails(_uow: object) -> None:
        raise RuntimeError("a later item of the batch fails")

    # The batch is rolled back and run again with a savepoint per item (group commit): the
    # engine's copy of the wallet from the first run must not be trusted in the second.
    (charged, _), (_, error) = world.run_batch(
        [partial(world.engine.process, request=update), fails]
    )
    assert isinstance(charged, ChargingDecision)
    assert charged.outcome is Outcome.SUCCESS
    assert isinstance(error, RuntimeError)
    assert world.balance() == 90  # 5 MB at 2 cents, once
    world.process(world.request(RequestType.TERMINATION, 2, _data(used=5 * MB)))
    assert world.balance() == 80
    _edr_sum_matches(world)


def test_the_engine_s_edrs_are_found_by_their_subscriber(world: World) -> None:
    with world.services.engine.begin() as conn:  # as if no EDR had named the pair before
        conn.execute(sa.text("DELETE FROM subscriber_edr_wallets"))
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    world.process(world.request(RequestType.TERMINATION, 1, _data(used=5 * MB)))
    _charges_are_listed_by_subscriber(world)


def test_an_edr_subscriber_noted_in_a_rolled_back_batch_is_noted_again(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    world.engine = ChargingEngine(world.clock, world.engine.settings)  # nothing noted yet
    with world.services.engine.begin() as conn:  # as if no EDR had named the pair before
        conn.execute(sa.text("DELETE FROM subscriber_edr_wallets"))
    update = world.request(RequestType.UPDATE, 1, _data(10 * MB, used=5 * MB))

    def fails(_uow: object) -> None:
        raise RuntimeError("a later item of the batch fails")

    # The first run writes the EDR and its subscriber row, then rolls back; the second run's
    # EDR must write the row again rather than trust the first run's memory of it.
    world.run_batch([partial(world.engine.process, request=update), fails])
    world.process(world.request(RequestType.UPDATE, 2, _data(10 * MB, used=5 * MB)))
    _charges_are_listed_by_subscriber(world)


def _charges_are_listed_by_subscriber(world: World) -> None:
    """One (subscriber, wallet) pair charged, and subscriber_edr_wallets lists it."""
    with world.services.engine.connect() as conn:
        charged = set(
            conn.execute(sa.text("SELECT subscriber_id, wallet_id FROM edrs WHERE type = 'CHARGE'"))
        )
        listed = set(conn.execute(sa.text("SELECT * FROM subscriber_edr_wallets")))
    assert len(charged) == 1
    assert listed == charged


def test_a_restarted_engine_replays_answers_it_did_not_give(world: World) -> None:
    world.process(world.request(RequestType.INITIAL, 0, _data(requested=10 * MB)))
    update = world.request(RequestType.UPDATE, 1, _data(10 * MB, used=5 * MB))
    first = world.process(update)
    world.engine = ChargingEngine(world.clock, world.engine.settings)  # empty memory
    assert world.process(update) == first
    assert world.balance() == 90
    world.process(world.request(RequestType.TERMINATION, 2, _data(used=5 * MB)))
    assert world.balance() == 80
    _edr_sum_matches(world)
