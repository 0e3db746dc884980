"""Real-time charging: sessions, reservations (reserve, commit, release, expire) and events.

`ChargingEngine.process` handles one neutral request inside the caller's unit of work; the
group committer runs it for every request that arrived while the previous batch was being
written. Wallets are locked and loaded through the wallet ledger, so charging, operator
changes and EDRs share one set of rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

import orjson

from ocs.core.call_barring import BarringOutcome
from ocs.core.charging import (
    Allocation,
    BalanceSource,
    ChargingDecision,
    ChargingRequest,
    FinalUnitAction,
    Outcome,
    RequestedAction,
    RequestType,
    ServiceDecision,
    ServiceRequest,
    UnitAmounts,
    allocate,
    amounts_of,
    overall_outcome,
)
from ocs.core.configuration import BalanceCategory, ConfigKind, Record, UnitOfMeasure
from ocs.core.edr import Edr, EdrType, encode_movements
from ocs.core.errors import DomainError, not_found
from ocs.core.friends import FriendsMatch
from ocs.core.grant_usage import GrantUsage, track_usage
from ocs.core.rating import (
    Rate,
    RatedUnit,
    TariffPlan,
    TimeBand,
    class_chain,
    normalise_number,
    parse_minute_of_day,
    parse_weekdays,
    select_rate,
)
from ocs.core.records import copy_with
from ocs.core.reservations import (
    ChargingSession,
    Reservation,
    ReservationState,
    SessionState,
    check_open,
)
from ocs.core.screening import CallScreening, screen_call
from ocs.core.wallets import (
    BucketChange,
    PermissionOverrides,
    WalletAction,
    WalletLink,
    WalletState,
    available_value,
    check_permitted,
    of_type,
    plan_credit,
    plan_debit,
)
from ocs.service.charging_cache import CachedSession, CachedWallet, WalletCache
from ocs.service.group_commit import Job, JobResult, run_batch
from ocs.service.notifications import enqueue_notification
from ocs.service.ports import Clock, ConfigRepository, Store, UnitOfWork
from ocs.service.subscriber_features import load_features
from ocs.service.wallet_ledger import Ledger, LoadedWallet, Origin, totals

DISCOUNT_FIELDS: Mapping[FriendsMatch, str] = {
    FriendsMatch.FRIENDS_AND_FAMILY: "friends_family_discount_percent",
    FriendsMatch.FRIENDS_AND_DESTINATION: "friends_destination_discount_percent",
}
NATIVE_UNITS: Mapping[RatedUnit, UnitOfMeasure] = {
    RatedUnit.SECONDS: UnitOfMeasure.SECONDS,
    RatedUnit.OCTETS: UnitOfMeasure.OCTETS,
    RatedUnit.EVENTS: UnitOfMeasure.EVENTS,
}
SWEEP_ROWS_MAX = 500
# Stored answers deleted per prune: a few milliseconds of the engine's time at most. At a
# steady load the answers due are as many per second as came in a day before.
ANSWERS_PRUNED_MAX = 1000
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A session's expiry moves in steps of its timeout / this, not with every request.
SESSION_TIMER_STEPS = 100


@dataclass(frozen=True)
class ChargingSettings:
    validity_time_s: int = 600
    # Reservations outlive their validity by this grace before they expire on their own.
    reservation_grace_s: int = 60
    session_timeout_s: int = 1800
    grant_time_s_default: int = 300
    grant_octets_default: int = 10 * 1024 * 1024
    grant_events_default: int = 1
    quota_threshold_percent: int = 20
    answer_retention_s: int = 24 * 3600
    catalog_refresh_s: float = 5.0
    rating_time_zone: str = "UTC"

    def default_grant(self, unit: RatedUnit) -> int:
        if unit is RatedUnit.SECONDS:
            return self.grant_time_s_default
        if unit is RatedUnit.OCTETS:
            return self.grant_octets_default
        return self.grant_events_default


@dataclass(frozen=True)
class ServiceMapping:
    charging_class: str
    unit: RatedUnit


@dataclass
class Catalog:
    """The rating configuration, read once and reused until it is refreshed."""

    loaded_at: datetime
    services: dict[tuple[int | None, int | None], ServiceMapping]
    parents: dict[str, str | None]
    plans: dict[str, TariffPlan]
    product_types: dict[str, Record]
    balance_units: dict[str, tuple[UnitOfMeasure, str | None]]
    scopes: list[tuple[str, str, bool]]  # (balance type, charging class, include sub-classes)
    balance_types: dict[str, Record]
    permissions: dict[str, PermissionOverrides]
    # EXPENDITURE balance types: they count what is spent (cost control) and never pay.
    spend_counters: frozenset[str] = frozenset()

    def mapping(self, rating_group: int | None, service_id: int | None) -> ServiceMapping | None:
        found = self.services.get((rating_group, service_id))
        return found if found is not None else self.services.get((rating_group, None))

    def scoped_balance_types(self, chain: list[str]) -> list[str]:
        """Free-unit balance types serving a class, most specific class first."""
        ordered: list[str] = []
        for depth, charging_class in enumerate(chain):
            for balance_type, scope_class, include_sub in self.scopes:
                if scope_class != charging_class or balance_type in ordered:
                    continue
                if depth == 0 or include_sub:
                    ordered.append(balance_type)
        return ordered


def load_catalog(uow: UnitOfWork, now: datetime) -> Catalog:
    cfg = uow.config
    bands = {str(r["code"]): _band(r) for r in cfg.list_records(ConfigKind.TIME_BAND)}
    rates: dict[str, list[Rate]] = {}
    for r in cfg.list_records(ConfigKind.TARIFF_RATE):
        band = None if r["time_band"] is None else bands[str(r["time_band"])]
        rate = Rate(
            code=str(r["code"]),
            charging_class=str(r["charging_class"]),
            destination_prefix=str(r["destination_prefix"] or ""),
            time_band=band,
            price=int(str(r["price"])),
            unit_size=int(str(r["unit_size"])),
            rounding_unit=int(str(r["rounding_unit"])),
        )
        rates.setdefault(str(r["tariff_plan"]), []).append(rate)
    plans = {
        str(p["code"]): TariffPlan(
            str(p["code"]), str(p["currency"]), tuple(rates.get(str(p["code"]), []))
        )
        for p in cfg.list_records(ConfigKind.TARIFF_PLAN)
    }
    services = {
        (_int(r["rating_group"]), _int(r["service_identifier"])): ServiceMapping(
            str(r["charging_class"]), RatedUnit(str(r["unit"]))
        )
        for r in cfg.list_records(ConfigKind.RATING_GROUP)
    }
    product_types = {str(r["code"]): r for r in cfg.list_records(ConfigKind.PRODUCT_TYPE)}
    balance_types = {str(r["code"]): r for r in cfg.list_records(ConfigKind.BALANCE_TYPE)}
    return Catalog(
        loaded_at=now,
        services=services,
        parents={
            str(r["code"]): None if r["parent"] is None else str(r["parent"])
            for r in cfg.list_records(ConfigKind.CHARGING_CLASS)
        },
        plans=plans,
        product_types=product_types,
        balance_units={
            code: (
                UnitOfMeasure(str(r["unit"])),
                None if r["currency"] is None else str(r["currency"]),
            )
            for code, r in balance_types.items()
        },
        scopes=[
            (str(r["balance_type"]), str(r["charging_class"]), bool(r["include_sub_classes"]))
            for r in cfg.list_records(ConfigKind.BALANCE_TYPE_CLASS)
        ],
        balance_types=balance_types,
        spend_counters=frozenset(
            code
            for code, r in balance_types.items()
            if r.get("category") == BalanceCategory.EXPENDITURE.value
        ),
        permissions={
            code: uow.wallet_settings.permission_overrides(code) for code in product_types
        },
    )


def _band(record: Record) -> TimeBand:
    return TimeBand(
        str(record["code"]),
        parse_weekdays(str(record["weekdays"])),
        parse_minute_of_day(str(record["start_time"]), "start_time"),
        parse_minute_of_day(str(record["end_time"]), "end_time"),
    )


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


@dataclass(eq=False)
class _Batch:
    """The transaction of a batch that began with ChargingEngine.begin_batch."""

    uow: UnitOfWork
    written: set[int] = field(default_factory=set)  # wallet ids whose copies it changed


@dataclass
class _Context:
    """One request's view of its wallet while it is being charged."""

    ledger: Ledger
    w: LoadedWallet
    catalog: Catalog
    request: ChargingRequest
    holds: dict[str, int] = field(default_factory=dict)
    # Number translation, barring, closed user group and friends for a call (None: no call).
    screening: CallScreening | None = None
    # The session's cached state, kept in step with what the request writes.
    session: CachedSession | None = None
    # Offer grants on the wallet (thresholds, first usage, reject at 100%).
    grants: list[GrantUsage] = field(default_factory=list)

    @property
    def product(self) -> Record:
        return self.catalog.product_types[self.w.wallet.product_type]

    @property
    def plan(self) -> TariffPlan | None:
        """A call inside a closed user group is rated by the group's tariff plan."""
        if self.screening is not None and self.screening.cug is not None:
            return self.catalog.plans.get(self.screening.cug.tariff_plan)
        code = self.product.get("tariff_plan")
        return None if code is None else self.catalog.plans.get(str(code))

    @property
    def destination(self) -> str:
        if self.screening is not None:
            return self.screening.called
        return normalise_number(self.request.called_party or "")

    def held(self, balance_type: str) -> int:
        """The balance's started, unexpired value (before what reservations hold)."""
        return available_value(of_type(self.w.buckets, balance_type), self.ledger.now)

    @property
    def rejecting_balance_types(self) -> set[str]:
        """Balance types of current grants that reject at 100%: charging stops at them."""
        now = self.ledger.now
        return {g.balance_type for g in self.grants if g.reject_at_full and g.active(now)}

    @property
    def friends_discount(self) -> tuple[FriendsMatch, int] | None:
        """The product type's discount for a call to a friend, with what made it one."""
        if self.screening is None or self.screening.friends is FriendsMatch.NONE:
            return None
        match = self.screening.friends
        name = DISCOUNT_FIELDS[match]
        percent = _int(self.product.get(name)) or 0
        return (match, percent) if percent else None

    @property
    def cash_balance_type(self) -> str | None:
        code = self.product.get("default_balance_type")
        return None if code is None else str(code)


class ChargingEngine:
    def __init__(self, clock: Clock, settings: ChargingSettings | None = None) -> None:
        self.clock = clock
        self.settings = settings or ChargingSettings()
        self._catalog: Catalog | None = None
        self._zone = ZoneInfo(self.settings.rating_time_zone)
        self._cache = WalletCache()
        self._touched: list[CachedWallet] = []
        # Between begin_batch and end_batch where storage has a data version (ADR 0014).
        self._batch: _Batch | None = None
        # Raised whenever a writer other than this engine may have committed: a copy whose
        # epoch is older is checked against its revision in storage before it is used.
        self._epoch = 0
        self._data_version: object | None = None
        # The batch's subscriber lookups, made once by lock_wallets for the requests after it.
        self._resolved: dict[str, tuple[int, int] | None] = {}

    def invalidate_catalog(self) -> None:
        self._catalog = None

    def catalog(self, uow: UnitOfWork, now: datetime) -> Catalog:
        refresh = timedelta(seconds=self.settings.catalog_refresh_s)
        if self._catalog is None or now - self._catalog.loaded_at >= refresh:
            self._catalog = load_catalog(uow, now)
        return self._catalog

    # -- entry point -----------------------------------------------------------------------

    def charge_batch(
        self, store: Store, requests: Sequence[ChargingRequest], lock: bool = False
    ) -> list[JobResult]:
        """Charge requests in one transaction (group commit), each one's decision or error in
        order; `lock` takes the batch's wallets first (several engines)."""
        jobs: list[Job] = [partial(self.process, request=r) for r in requests]
        prepare = partial(self.begin_batch, requests=requests, lock=lock)
        return run_batch(store, jobs, prepare=prepare, ended=self.end_batch)

    def begin_batch(
        self, uow: UnitOfWork, requests: Sequence[ChargingRequest] = (), lock: bool = False
    ) -> None:
        """Start a batch's transaction (the group committer's `prepare`): where storage tells
        whether another writer committed since this engine's last transaction (SQLite's data
        version), cached wallets are trusted without a read until one did; with `lock`, the
        batch's wallets are locked first (several engines, ADR 0007). end_batch must follow."""
        version = uow.charging.data_version()
        if version is not None:
            if version != self._data_version:
                self._epoch += 1
                self._data_version = version
            self._batch = _Batch(uow)
        if lock:
            self.lock_wallets(uow, requests)

    def end_batch(self, committed: bool) -> None:
        """The batch's transaction ended. Rolled back, the copies it wrote hold changes that
        storage no longer has, and no revision in storage would tell: they are dropped."""
        batch, self._batch = self._batch, None
        if batch is not None and not committed:
            for wallet_id in batch.written:
                self._cache.forget(wallet_id)

    def process(self, uow: UnitOfWork, request: ChargingRequest) -> ChargingDecision:
        """Decide one request; a repeated (session, request number) gets its first answer.
        Runs on the group committer's thread only (it uses the wallet cache)."""
        self._touched.clear()
        try:
            hot = self._cached_session(uow, request)
            if hot is None or not hot[1].is_new(request.request_number):
                stored = uow.charging.get_answer(request.session_id, request.request_number)
                if stored is not None:
                    return decision_from_json(stored)
            now = self.clock.now()
            decision = self._decide(uow, request, now, hot)
            uow.charging.put_answer(
                request.session_id, request.request_number, now, decision_to_json(decision)
            )
            self._written(uow)
        except BaseException:
            for cached in self._touched:
                self._cache.forget(cached.w.wallet.id)
            raise
        finally:
            self._touched.clear()
        return decision

    def _written(self, uow: UnitOfWork) -> None:
        """Keep the copies the request wrote in step with storage."""
        batch = self._batch_of(uow)
        if batch is not None:
            # No new revision: until another writer commits, storage is what this engine wrote.
            batch.written.update(cached.w.wallet.id for cached in self._touched)
            return
        for cached in self._touched:
            revision = uow.charging.written_revision(cached.w.wallet.id)
            if revision is None:
                self._cache.forget(cached.w.wallet.id)
            else:
                cached.revision = revision

    def _batch_of(self, uow: UnitOfWork) -> _Batch | None:
        batch = self._batch
        return batch if batch is not None and batch.uow is uow else None

    def _current(self, uow: UnitOfWork, wallet_id: int) -> tuple[CachedWallet | None, int | None]:
        """The cached wallet when it is what storage holds (a stale copy is dropped), and the
        wallet's revision if it was read (locking the wallet for the transaction)."""
        batch = self._batch_of(uow)
        if batch is not None:
            copy = self._cache.peek(wallet_id)
            if copy is None or copy.epoch == self._epoch:
                return copy, None
        revision = uow.charging.wallet_revision(wallet_id, lock=True)
        copy = None if revision is None else self._cache.get(wallet_id, revision)
        if copy is not None and batch is not None:
            copy.epoch = self._epoch
        return copy, revision

    def _session_due(self, now: datetime) -> datetime:
        """When a session seen now times out at the earliest."""
        return now + timedelta(seconds=self.settings.session_timeout_s)

    def _session_expiry(self, now: datetime) -> datetime:
        """The expiry a session seen now gets: its timeout and one step more, so that the
        requests within that step need not move it (a session times out between one and
        1 + 1/SESSION_TIMER_STEPS timeouts after its last request)."""
        step_s = self.settings.session_timeout_s / SESSION_TIMER_STEPS
        return self._session_due(now) + timedelta(seconds=step_s)

    def lock_wallets(self, uow: UnitOfWork, requests: Sequence[ChargingRequest]) -> None:
        """Lock the wallets a batch will charge, in id order, before charging any of them:
        engines whose batches share wallets then wait for each other instead of locking
        them in opposite orders and deadlocking (ADR 0007)."""
        wallet_ids: set[int] = set()
        self._resolved = {}
        for request in requests:
            wallet_id = self._cache.wallet_of_session(request.session_id)
            if wallet_id is None and request.request_type in (RequestType.INITIAL,
                                                              RequestType.EVENT):  # fmt: skip
                found = self._resolved[request.session_id] = _resolve(uow, request)
                wallet_id = None if found is None else found[1]
            elif wallet_id is None:
                session = uow.charging.get_session(request.session_id)
                wallet_id = None if session is None else session.wallet_id
            if wallet_id is not None:
                wallet_ids.add(wallet_id)
        uow.charging.lock_wallets(wallet_ids)

    def _subscriber(self, uow: UnitOfWork, request: ChargingRequest) -> tuple[int, int] | None:
        """(subscriber id, wallet id) of the request's caller, as lock_wallets found it."""
        if request.session_id in self._resolved:
            return self._resolved.pop(request.session_id)
        return _resolve(uow, request)

    def _cached_session(
        self, uow: UnitOfWork, request: ChargingRequest
    ) -> tuple[CachedWallet, CachedSession] | None:
        """The session's wallet and session from memory, when the copy is current."""
        if request.request_type in (RequestType.INITIAL, RequestType.EVENT):
            return None
        wallet_id = self._cache.wallet_of_session(request.session_id)
        if wallet_id is None:
            return None
        cached, _ = self._current(uow, wallet_id)
        entry = None if cached is None else cached.sessions.get(request.session_id)
        if cached is None or entry is None:
            return None
        self._touched.append(cached)
        return cached, entry

    def _wallet(self, uow: UnitOfWork, wallet_id: int) -> CachedWallet:
        """The wallet locked for this transaction, from memory when the copy is current."""
        cached, revision = self._current(uow, wallet_id)
        if cached is None:
            if revision is None:  # not read yet, or no such wallet
                revision = uow.charging.wallet_revision(wallet_id, lock=True)
            if revision is None:
                raise not_found("wallet", wallet_id)
            loaded = uow.charging.load_wallet(wallet_id)
            if loaded is None:
                raise not_found("wallet", wallet_id)
            wallet, balances, buckets = loaded
            cached = CachedWallet(
                revision,
                LoadedWallet(wallet, {b.balance_type: b for b in balances}, buckets),
                uow.charging.holds_of_wallet(wallet_id),
                uow.charging.links_of_wallet(wallet_id),
                uow.charging.grants_of_wallet(wallet_id),
                epoch=self._epoch if self._batch_of(uow) is not None else -1,
            )
            self._cache.put(cached)
        if cached not in self._touched:
            self._touched.append(cached)
        return cached

    def _session_entry(
        self, uow: UnitOfWork, cached: CachedWallet, session: ChargingSession
    ) -> CachedSession:
        """The session's open reservations and their holds, read once and then kept."""
        entry = cached.sessions.get(session.session_id)
        if entry is None:
            reservations = uow.charging.open_reservations_of_session(
                session.wallet_id, session.session_id
            )
            holds = {r.id: uow.charging.holds_of(r.id) for r in reservations}
            entry = CachedSession(session, reservations, holds, None)
            self._cache.add_session(cached, entry)
        return entry

    def _decide(
        self,
        uow: UnitOfWork,
        request: ChargingRequest,
        now: datetime,
        hot: tuple[CachedWallet, CachedSession] | None = None,
    ) -> ChargingDecision:
        if not request.session_id:
            return ChargingDecision(Outcome.MISSING_INFO, detail="Session-Id is missing")
        catalog = self.catalog(uow, now)
        if request.request_type is RequestType.INITIAL:
            return self._initial(uow, catalog, request, now)
        if request.request_type is RequestType.EVENT:
            return self._event(uow, catalog, request, now)
        return self._continue(uow, catalog, request, now, hot)

    # -- session requests ------------------------------------------------------------------

    def _initial(
        self, uow: UnitOfWork, catalog: Catalog, request: ChargingRequest, now: datetime
    ) -> ChargingDecision:
        if uow.charging.get_session(request.session_id) is not None:
            return ChargingDecision(Outcome.UNABLE_TO_COMPLY, detail="the session already exists")
        found = self._subscriber(uow, request)
        if found is None:
            return ChargingDecision(Outcome.USER_UNKNOWN, detail="no subscriber has this identity")
        subscriber_id, wallet_id = found
        cached = self._wallet(uow, wallet_id)
        ctx = self._context(uow, catalog, request, cached, subscriber_id, now)
        denied = self._check_chargeable(ctx)
        if denied is not None:
            return denied
        if cached.open_sessions is None:
            cached.open_sessions = uow.charging.count_open_sessions(wallet_id)
        if cached.open_sessions >= ctx.w.wallet.max_concurrent_accesses:
            return ChargingDecision(
                Outcome.END_USER_SERVICE_DENIED,
                detail=f"maximum concurrent accesses ({ctx.w.wallet.max_concurrent_accesses}) "
                "reached",
            )
        session = ChargingSession(
            request.session_id,
            wallet_id,
            subscriber_id,
            SessionState.OPEN,
            now,
            now,
            self._session_expiry(now),
            request.calling_party,
            request.called_party,
        )
        uow.charging.insert_session(session)
        cached.open_sessions += 1
        ctx.session = CachedSession(session, [], {}, request.request_number)
        self._cache.add_session(cached, ctx.session)
        services = tuple(self._reserve(ctx, s, now) for s in request.services if s.requested)
        return ChargingDecision(overall_outcome(services, Outcome.SUCCESS), services)

    def _continue(
        self,
        uow: UnitOfWork,
        catalog: Catalog,
        request: ChargingRequest,
        now: datetime,
        hot: tuple[CachedWallet, CachedSession] | None,
    ) -> ChargingDecision:
        if hot is not None:
            cached, entry = hot
            session = entry.session
        else:
            found = uow.charging.get_session(request.session_id)
            if found is None or found.state is SessionState.CLOSED:
                return ChargingDecision(Outcome.UNKNOWN_SESSION, detail="no open session")
            session = found
            cached = self._wallet(uow, session.wallet_id)
            entry = self._session_entry(uow, cached, session)
        if (not request.calling_party and session.calling_party) or (
            not request.called_party and session.called_party
        ):
            request = replace(
                request,
                calling_party=request.calling_party or session.calling_party,
                called_party=request.called_party or session.called_party,
            )
        ctx = self._context(uow, catalog, request, cached, session.subscriber_id, now)
        ctx.session = entry
        open_reservations = entry.reservations
        terminating = request.request_type is RequestType.TERMINATION
        decisions: list[ServiceDecision] = []
        for service in request.services:
            reservation = _reservation_for(open_reservations, service)
            if reservation is not None and service.used is not None:
                self._commit(ctx, reservation, service.used, now, partial=not terminating)
                open_reservations.remove(reservation)
            elif reservation is not None and service.requested is not None and not terminating:
                # A new request for the service without usage releases the old quota first.
                self._release(ctx, reservation, ReservationState.REVOKED, now, "network")
                open_reservations.remove(reservation)
            if service.requested is not None and not terminating:
                denied = self._check_chargeable(ctx)
                decisions.append(
                    _service(service, denied.outcome)
                    if denied
                    else self._reserve(ctx, service, now)
                )
        if terminating:
            for reservation in open_reservations:
                self._release(ctx, reservation, ReservationState.REVOKED, now, "termination")
            state, expires_at = SessionState.CLOSED, now
        elif session.state is SessionState.OPEN and session.expires_at >= self._session_due(now):
            state, expires_at = SessionState.OPEN, session.expires_at  # the timer runs past due
        else:
            state, expires_at = SessionState.OPEN, self._session_expiry(now)
        if (state, expires_at) == (session.state, session.expires_at):
            # Neither changes: their index entry (a page to write) stays as it is.
            uow.charging.see_session(session.session_id, now)
        else:
            uow.charging.touch_session(session.session_id, state, now, expires_at)
        entry.session = copy_with(session, state=state, last_seen_at=now, expires_at=expires_at)
        entry.last_request_number = max(entry.last_request_number or 0, request.request_number)
        if terminating:
            self._cache.drop_session(cached, session.session_id)
            if cached.open_sessions is not None:
                cached.open_sessions -= 1
        services = tuple(decisions)
        return ChargingDecision(overall_outcome(services, Outcome.SUCCESS), services)

    # -- events ----------------------------------------------------------------------------

    def _event(
        self, uow: UnitOfWork, catalog: Catalog, request: ChargingRequest, now: datetime
    ) -> ChargingDecision:
        found = self._subscriber(uow, request)
        if found is None:
            return ChargingDecision(Outcome.USER_UNKNOWN, detail="no subscriber has this identity")
        subscriber_id, wallet_id = found
        ctx = self._context(uow, catalog, request, self._wallet(uow, wallet_id), subscriber_id, now)
        action = request.requested_action or RequestedAction.DIRECT_DEBITING
        if action is RequestedAction.CHECK_BALANCE:
            return ChargingDecision(
                Outcome.SUCCESS, balance_minor=self._cash_room(ctx), currency=ctx.w.wallet.currency
            )
        if action is not RequestedAction.PRICE_ENQUIRY:
            denied = self._check_chargeable(ctx)
            if denied is not None:
                return denied
        services = tuple(self._event_service(ctx, s, action, now) for s in request.services)
        outcome = overall_outcome(services, Outcome.MISSING_INFO)
        cost = None
        if action is RequestedAction.PRICE_ENQUIRY:
            cost = sum(s.granted.money_minor or 0 for s in services if s.granted is not None)
        currency = None if cost is None or ctx.plan is None else ctx.plan.currency
        return ChargingDecision(outcome, services, cost_minor=cost, currency=currency)

    def _event_service(
        self, ctx: _Context, service: ServiceRequest, action: RequestedAction, now: datetime
    ) -> ServiceDecision:
        mapping = ctx.catalog.mapping(service.rating_group, service.service_identifier)
        if mapping is None:
            return _service(service, Outcome.RATING_FAILED)
        units_given = service.requested or service.used
        units = None if units_given is None else units_given.amount_in(mapping.unit)
        if units is None or units <= 0:
            return _service(service, Outcome.MISSING_INFO)
        rate = self._rate(ctx, mapping, now)
        if action is RequestedAction.PRICE_ENQUIRY:
            if rate is None:
                return _service(service, Outcome.RATING_FAILED)
            return _service(service, Outcome.SUCCESS, UnitAmounts(money_minor=rate.cost(units)))
        if action is RequestedAction.REFUND_ACCOUNT:
            return self._refund(ctx, service, mapping, rate, units)
        sources = self._sources(ctx, mapping)
        cap = self._money_cap(ctx, mapping)
        allocation = allocate(units, sources, rate, must_cover=False, money_cap_minor=cap)
        if allocation.units < units:
            outcome = Outcome.RATING_FAILED if rate is None else Outcome.CREDIT_LIMIT_REACHED
            return _service(service, outcome)
        self._debit(ctx, allocation, mapping, service, units, partial=False)
        return _service(service, Outcome.SUCCESS, amounts_of(mapping.unit, units))

    def _refund(
        self,
        ctx: _Context,
        service: ServiceRequest,
        mapping: ServiceMapping,
        rate: Rate | None,
        units: int,
    ) -> ServiceDecision:
        cash = ctx.cash_balance_type
        if rate is None or cash is None:
            return _service(service, Outcome.RATING_FAILED)
        amount = rate.cost(units)
        before = totals(ctx.w.buckets)
        ctx.ledger.ensure_balance(ctx.w, cash)
        if amount:
            ctx.ledger.apply(ctx.w, plan_credit(ctx.w.buckets, cash, amount, ctx.ledger.now))
        ctx.ledger.edr(
            ctx.w,
            EdrType.REFUND,
            before,
            [cash],
            {"refunded_units": units, "charging_class": mapping.charging_class},
            **self._edr_fields(ctx, service, mapping, units, partial=False),
        )
        return _service(service, Outcome.SUCCESS, amounts_of(mapping.unit, units))

    # -- reserve, commit, release ------------------------------------------------------------

    def _reserve(self, ctx: _Context, service: ServiceRequest, now: datetime) -> ServiceDecision:
        mapping = ctx.catalog.mapping(service.rating_group, service.service_identifier)
        if mapping is None:
            return _service(service, Outcome.RATING_FAILED)
        requested = service.requested or UnitAmounts()
        wanted = requested.amount_in(mapping.unit) or self.settings.default_grant(mapping.unit)
        rate = self._rate(ctx, mapping, now)
        sources = self._sources(ctx, mapping)
        cap = self._money_cap(ctx, mapping)
        allocation = allocate(wanted, sources, rate, must_cover=False, money_cap_minor=cap)
        if allocation.units == 0:
            # Without a rate only free units could pay; having some means the limit is reached.
            unrated = rate is None and not any(s.native for s in sources)
            outcome = Outcome.RATING_FAILED if unrated else Outcome.CREDIT_LIMIT_REACHED
            return _service(service, outcome)
        validity_s = self.settings.validity_time_s
        expires_at = now + timedelta(seconds=validity_s + self.settings.reservation_grace_s)
        holds = dict(allocation.takes)
        reservation = Reservation(
            id=0,
            session_id=ctx.request.session_id,
            wallet_id=ctx.w.wallet.id,
            rating_group=service.rating_group,
            service_identifier=service.service_identifier,
            charging_class=mapping.charging_class,
            unit=mapping.unit.value,
            granted_units=allocation.units,
            used_units=0,
            state=ReservationState.OPEN,
            created_at=now,
            expires_at=expires_at,
        )
        reservation_id = ctx.ledger.uow.charging.insert_reservation(reservation, holds)
        if ctx.session is not None:
            ctx.session.reservations.append(copy_with(reservation, id=reservation_id))
            ctx.session.holds[reservation_id] = holds
        for balance_type, amount in holds.items():
            ctx.holds[balance_type] = ctx.holds.get(balance_type, 0) + amount
        threshold = allocation.units * self.settings.quota_threshold_percent // 100
        return ServiceDecision(
            service.rating_group,
            service.service_identifier,
            Outcome.SUCCESS,
            granted=amounts_of(mapping.unit, allocation.units),
            validity_time_s=validity_s,
            final_unit_action=FinalUnitAction.TERMINATE if allocation.limited else None,
            quota_threshold=threshold or None,
        )

    def _commit(
        self,
        ctx: _Context,
        reservation: Reservation,
        used: UnitAmounts,
        now: datetime,
        partial: bool,
        ended_by: str = "network",
    ) -> None:
        """Post the used units (however many) and release the rest of the hold."""
        mapping = ServiceMapping(reservation.charging_class, RatedUnit(reservation.unit))
        units = max(0, used.amount_in(mapping.unit) or 0)
        self._release(ctx, reservation, ReservationState.COMMITTED, now, ended_by, units)
        if units == 0:
            return
        rate = self._rate(ctx, mapping, now)
        allocation = allocate(units, self._sources(ctx, mapping), rate, must_cover=True)
        service = ServiceRequest(reservation.rating_group, reservation.service_identifier)
        self._debit(ctx, allocation, mapping, service, units, partial)

    def _release(
        self,
        ctx: _Context,
        reservation: Reservation,
        state: ReservationState,
        now: datetime,
        ended_by: str,
        used_units: int = 0,
    ) -> None:
        charging = ctx.ledger.uow.charging
        if not charging.end_reservation(reservation.id, state, used_units, now, ended_by):
            return
        held = None if ctx.session is None else ctx.session.holds.pop(reservation.id, None)
        if held is None:
            held = charging.holds_of(reservation.id)
        for balance_type, amount in held.items():
            ctx.holds[balance_type] = ctx.holds.get(balance_type, 0) - amount

    def _debit(
        self,
        ctx: _Context,
        allocation: Allocation,
        mapping: ServiceMapping,
        service: ServiceRequest,
        units: int,
        partial: bool,
    ) -> None:
        """Take the allocation from the buckets and write the CHARGE EDR."""
        ledger, w = ctx.ledger, ctx.w
        before = totals(w.buckets)
        changes: list[BucketChange] = []
        for balance_type, amount in allocation.takes:
            # The allocation already respected each balance's floor and other holds.
            planned = plan_debit(w.buckets, balance_type, amount, ledger.now, None)
            assert planned is not None
            changes += planned
        counted = self._count_spend(ctx, mapping, allocation.money_minor, changes)
        ids = ledger.apply(w, changes)
        self._track_grants(ctx, set(ids))
        detail: dict[str, object] = {
            "buckets": encode_movements(changes, ids),
            "charging_class": mapping.charging_class,
            "units": units,
        }
        if allocation.shortfall_minor:
            detail["shortfall_minor"] = allocation.shortfall_minor
        ledger.edr(
            w,
            EdrType.CHARGE,
            before,
            {bt for bt, _ in allocation.takes} | counted,
            detail,
            **self._edr_fields(ctx, service, mapping, units, partial),
        )
        last_used = w.wallet.last_used_at
        # To the minute: one write per wallet per minute, not one per charge.
        if last_used is None or ledger.now - last_used >= LAST_USED_RESOLUTION:
            ledger.uow.charging.set_wallet_last_used(w.wallet.id, ledger.now)
            w.wallet = copy_with(w.wallet, last_used_at=ledger.now)

    def _track_grants(self, ctx: _Context, bucket_ids: set[int]) -> None:
        """First usage, thresholds and exhaustion of the grants whose buckets were charged;
        their notifications go to the outbox in this transaction."""
        if not ctx.grants:
            return
        values = {b.id: b.value for b in ctx.w.buckets}
        subscriber_id = ctx.ledger.origin.subscriber_id
        for index, grant in enumerate(ctx.grants):
            # A grant past its period no longer owns its bucket id (SQLite reuses the ids of
            # deleted rows), so only current grants are followed.
            if grant.bucket_id not in bucket_ids or subscriber_id is None:
                continue
            if not grant.active(ctx.ledger.now):
                continue
            remaining = values.get(grant.bucket_id, 0)
            updated, events = track_usage(grant, remaining, subscriber_id, ctx.ledger.now)
            if updated != grant:
                ctx.grants[index] = updated
                ctx.ledger.uow.charging.update_grant_usage(updated)
            for event in events:
                enqueue_notification(ctx.ledger.uow, event)

    def _edr_fields(
        self,
        ctx: _Context,
        service: ServiceRequest,
        mapping: ServiceMapping,
        units: int,
        partial: bool,
    ) -> dict[str, Any]:
        request = ctx.request
        tags = {"charging_class": mapping.charging_class}
        if service.rating_group is not None:
            tags["rating_group"] = str(service.rating_group)
        if request.calling_party:
            tags["calling_number"] = request.calling_party[:64]
        discount = ctx.friends_discount
        return {
            "discounts": None if discount is None else f"{discount[0].value}:{discount[1]}%",
            "session_id": request.session_id[:64],
            "called_number": (request.called_party or None) and request.called_party[:64],
            "duration_s": units if mapping.unit is RatedUnit.SECONDS else None,
            "partial": partial,
            "tags": tuple(sorted(tags.items())),
        }

    # -- balances ----------------------------------------------------------------------------

    def _context(
        self,
        uow: UnitOfWork,
        catalog: Catalog,
        request: ChargingRequest,
        cached: CachedWallet,
        subscriber_id: int,
        now: datetime,
    ) -> _Context:
        fast = _FastUnitOfWork(uow, catalog, cached)
        ledger = Ledger(cast(UnitOfWork, fast), now, Origin(subscriber_id=subscriber_id))
        w = cached.w
        wallet = w.wallet
        ledger.expire(w)
        screening = None
        if request.called_party:
            calling = request.calling_party or next((v for _k, v in request.identities), "")
            features = load_features(
                uow, subscriber_id, calling, wallet.service_provider, wallet.product_type
            )
            screening = screen_call(features, request.called_party)
        return _Context(ledger, w, catalog, request, cached.holds, screening, grants=cached.grants)

    def _check_chargeable(self, ctx: _Context) -> ChargingDecision | None:
        """Deny a wallet that may not be charged; activate or wake it on first chargeable use."""
        wallet = ctx.w.wallet
        if wallet.is_expired(ctx.ledger.now):
            return ChargingDecision(Outcome.END_USER_SERVICE_DENIED, detail="the wallet expired")
        screening = ctx.screening
        if screening is not None and screening.barring.outcome is not BarringOutcome.ALLOWED:
            return ChargingDecision(
                Outcome.END_USER_SERVICE_DENIED,
                detail=f"calls to {screening.called} are barred ({screening.barring.outcome})",
            )
        try:
            overrides = ctx.catalog.permissions.get(wallet.product_type, {})
            check_permitted(wallet.state, WalletAction.CHARGE, overrides)
            if wallet.state is WalletState.PRE_USE:
                ctx.ledger.activate(ctx.w)
            else:
                ctx.ledger.wake(ctx.w)
        except DomainError as error:
            return ChargingDecision(Outcome.END_USER_SERVICE_DENIED, detail=error.detail)
        return None

    def _rate(self, ctx: _Context, mapping: ServiceMapping, now: datetime) -> Rate | None:
        plan = ctx.plan
        if plan is None:
            return None
        chain = class_chain(mapping.charging_class, ctx.catalog.parents)
        local_time = ctx.request.event_time.astimezone(self._zone)
        rate = select_rate(plan, chain, ctx.destination, local_time)
        discount = ctx.friends_discount
        if rate is None or discount is None:
            return rate
        return rate.discounted(discount[1])

    def _sources(self, ctx: _Context, mapping: ServiceMapping) -> list[BalanceSource]:
        """Balances in consumption order: free units (most specific class first), then cash."""
        chain = class_chain(mapping.charging_class, ctx.catalog.parents)
        order = ctx.catalog.scoped_balance_types(chain)
        cash = ctx.cash_balance_type
        if cash is not None and cash not in order:
            order.append(cash)
        # A grant that rejects at 100% ends the search: once it is used up, the class is
        # refused rather than charged to the balances after it.
        final = ctx.rejecting_balance_types
        sources = []
        for balance_type in order:
            balance = ctx.w.balances.get(balance_type)
            unit, currency = ctx.catalog.balance_units.get(balance_type, (None, None))
            if balance is None or unit is None or balance_type in ctx.catalog.spend_counters:
                continue
            native = unit is NATIVE_UNITS[mapping.unit]
            if not native and (
                unit is not UnitOfMeasure.MONEY or currency != ctx.w.wallet.currency
            ):
                continue
            available = ctx.held(balance_type) - ctx.holds.get(balance_type, 0)
            sources.append(BalanceSource(balance_type, native, available, balance.floor))
            if balance_type in final:
                break
        return sources

    def _counters(self, ctx: _Context, mapping: ServiceMapping) -> list[str]:
        """The wallet's cost-control balances that count spend on this class."""
        chain = class_chain(mapping.charging_class, ctx.catalog.parents)
        return [
            bt
            for bt in ctx.catalog.scoped_balance_types(chain)
            if bt in ctx.catalog.spend_counters and bt in ctx.w.balances
        ]

    def _money_cap(self, ctx: _Context, mapping: ServiceMapping) -> int | None:
        """What a cost-control balance that rejects at 100% still allows to be spent."""
        rejecting = ctx.rejecting_balance_types
        rooms = [ctx.held(bt) for bt in self._counters(ctx, mapping) if bt in rejecting]
        return min(rooms) if rooms else None

    def _count_spend(
        self, ctx: _Context, mapping: ServiceMapping, money: int, changes: list[BucketChange]
    ) -> set[str]:
        """Take the money spent off each cost-control balance of the class (down to zero),
        adding the bucket changes; returns the balance types counted."""
        counted: set[str] = set()
        if money <= 0:
            return counted
        now = ctx.ledger.now
        for balance_type in self._counters(ctx, mapping):
            amount = min(money, ctx.held(balance_type))
            if amount <= 0:
                continue
            planned = plan_debit(ctx.w.buckets, balance_type, amount, now, None)
            if planned:
                changes += planned
                counted.add(balance_type)
        return counted

    def _cash_room(self, ctx: _Context) -> int:
        cash = ctx.cash_balance_type
        balance = None if cash is None else ctx.w.balances.get(cash)
        if cash is None or balance is None:
            return 0
        held = ctx.held(cash)
        room = BalanceSource(cash, False, held - ctx.holds.get(cash, 0), balance.floor).spendable
        return held if room is None else room

    # -- operator actions ----------------------------------------------------------------------

    def resolve_by_operator(
        self, ledger: Ledger, reservation_id: int, outcome: ReservationState
    ) -> Reservation:
        """Commit (charge everything it holds units for), revoke or delete an open reservation.
        Each action writes an EDR; a reservation that already ended is refused."""
        uow = ledger.uow
        reservation = uow.charging.get_reservation(reservation_id)
        if reservation is None:
            raise not_found("reservation", reservation_id)
        check_open(reservation)
        session = uow.charging.get_session(reservation.session_id)
        request = ChargingRequest(
            session_id=reservation.session_id,
            request_number=-1,
            request_type=RequestType.UPDATE,
            identities=(),
            event_time=ledger.now,
            calling_party=None if session is None else session.calling_party,
            called_party=None if session is None else session.called_party,
        )
        catalog = self.catalog(uow, ledger.now)
        w = ledger.load(reservation.wallet_id)
        ctx = _Context(ledger, w, catalog, request, uow.charging.holds_of_wallet(w.wallet.id))
        if outcome is ReservationState.COMMITTED:
            used = amounts_of(RatedUnit(reservation.unit), reservation.granted_units)
            self._commit(ctx, reservation, used, ledger.now, partial=False, ended_by="operator")
        else:
            self._release(ctx, reservation, outcome, ledger.now, "operator")
            detail = {"reservation": reservation_id, "action": outcome.value}
            ledger.edr(w, EdrType.RESERVATION, {}, (), detail, session_id=request.session_id[:64])
        ended = uow.charging.get_reservation(reservation_id)
        assert ended is not None
        return ended

    # -- supervision ---------------------------------------------------------------------------

    def expire(self, uow: UnitOfWork, limit: int = SWEEP_ROWS_MAX) -> int:
        """Release reservations past their expiry and close idle sessions, oldest first."""
        now = self.clock.now()
        charging = uow.charging
        ended = 0
        sessions = charging.expired_sessions(now, limit)
        reservations = charging.expired_reservations(now, limit)
        # In id order, as the engines lock theirs (ADR 0007).
        wallet_ids = {s.wallet_id for s in sessions} | {r.wallet_id for r in reservations}
        charging.lock_wallets(wallet_ids)
        for session in sessions:
            for reservation in charging.open_reservations_of_session(
                session.wallet_id, session.session_id
            ):
                ended += charging.end_reservation(
                    reservation.id, ReservationState.EXPIRED, 0, now, "session timeout"
                )
            charging.touch_session(session.session_id, SessionState.CLOSED, now, now)
        for reservation in reservations:
            # One the session timeout just ended is not ended again (a reservation ends once).
            ended += charging.end_reservation(
                reservation.id, ReservationState.EXPIRED, 0, now, "validity timeout"
            )
        charging.note_wallets_changed(wallet_ids)
        # This engine's own commits leave the data version as it was: its copies must go.
        for wallet_id in wallet_ids:
            self._cache.forget(wallet_id)
        return ended

    def prune_answers(self, uow: UnitOfWork, limit: int = ANSWERS_PRUNED_MAX) -> int:
        """Delete up to `limit` stored answers past their retention, oldest first; returns
        how many went. A full chunk means more may be due: callers run it again, between
        batches, rather than stall charging for a whole backlog at once."""
        retention = timedelta(seconds=self.settings.answer_retention_s)
        return uow.charging.delete_answers_before(self.clock.now() - retention, limit)


def _resolve(uow: UnitOfWork, request: ChargingRequest) -> tuple[int, int] | None:
    """(subscriber id, primary wallet id) for the first identity that names a subscriber."""
    for _kind, value in request.identities:
        for candidate in dict.fromkeys((value, value.lstrip("+"))):
            found = uow.charging.resolve_identity(candidate)
            if found is not None:
                return found
    return None


class _FastConfig:
    """Balance and product types from the engine's catalogue; anything else from storage."""

    def __init__(self, config: ConfigRepository, catalog: Catalog) -> None:
        self._config = config
        self._cached = {
            ConfigKind.BALANCE_TYPE: catalog.balance_types,
            ConfigKind.PRODUCT_TYPE: catalog.product_types,
        }

    def get(self, kind: ConfigKind, code: str) -> Record | None:
        cached = self._cached.get(kind)
        return self._config.get(kind, code) if cached is None else cached.get(code)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


class _FastWallets:
    """The bucket, link and EDR writes the ledger makes while charging, on the hot path."""

    def __init__(self, uow: UnitOfWork, links: list[WalletLink]) -> None:
        self._wallets = uow.wallets
        hot = uow.charging
        self.insert_bucket = hot.insert_bucket
        self.update_bucket = hot.update_bucket
        self.set_bucket_value = hot.set_bucket_value
        self.delete_bucket = hot.delete_bucket
        self.update_wallet = hot.update_wallet
        self.append_history = hot.append_history
        self._links = links

    def links_of_wallet(self, wallet_id: int) -> list[WalletLink]:
        return self._links

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wallets, name)


class _FastEdrs:
    def __init__(self, uow: UnitOfWork, cached: CachedWallet) -> None:
        self._edrs = uow.edrs
        self._insert = uow.charging.insert_edr
        self._cached = cached

    def insert(self, edr: Edr) -> int:
        """The EDR; its subscriber's row for this wallet only when this copy has not written
        one already (rows there are never deleted, and a rollback drops the copy)."""
        cached = self._cached
        subscriber_id = edr.subscriber_id
        if edr.wallet_id != cached.w.wallet.id:
            return self._insert(edr)
        edr_id = self._insert(edr, subscriber_noted=subscriber_id in cached.edr_subscribers)
        if subscriber_id is not None:
            cached.edr_subscribers.add(subscriber_id)
        return edr_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._edrs, name)


class _FastWalletSettings:
    def __init__(self, uow: UnitOfWork) -> None:
        self._settings = uow.wallet_settings
        self.activation_credits = uow.charging.activation_credits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._settings, name)


class _FastUnitOfWork:
    """The unit of work as the wallet ledger sees it during charging: the same transaction,
    with the few reads and writes of every request served by the hot-path repository
    (ADR 0003), so the ledger's rules stay the only implementation of buckets and EDRs."""

    def __init__(self, uow: UnitOfWork, catalog: Catalog, cached: CachedWallet) -> None:
        self._uow = uow
        self.config = _FastConfig(uow.config, catalog)
        self.wallets = _FastWallets(uow, cached.links)
        self.edrs = _FastEdrs(uow, cached)
        self.wallet_settings = _FastWalletSettings(uow)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def _reservation_for(
    reservations: list[Reservation], service: ServiceRequest
) -> Reservation | None:
    for reservation in reservations:
        if (reservation.rating_group, reservation.service_identifier) == (
            service.rating_group,
            service.service_identifier,
        ):
            return reservation
    for reservation in reservations:
        if reservation.rating_group == service.rating_group:
            return reservation
    return None


def _service(
    service: ServiceRequest, outcome: Outcome, granted: UnitAmounts | None = None
) -> ServiceDecision:
    return ServiceDecision(service.rating_group, service.service_identifier, outcome, granted)


# -- stored answers ----------------------------------------------------------------------------


def _amounts(amounts: UnitAmounts | None) -> dict[str, int | None] | None:
    if amounts is None:
        return None
    return {
        "time_s": amounts.time_s,
        "total_octets": amounts.total_octets,
        "input_octets": amounts.input_octets,
        "output_octets": amounts.output_octets,
        "service_specific_units": amounts.service_specific_units,
        "money_minor": amounts.money_minor,
    }


def decision_to_json(decision: ChargingDecision) -> str:
    # Field by field: dataclasses.asdict deep-copies and cost ~80 us per stored answer.
    services = [
        {
            "rating_group": s.rating_group,
            "service_identifier": s.service_identifier,
            "outcome": s.outcome.value,
            "granted": _amounts(s.granted),
            "validity_time_s": s.validity_time_s,
            "final_unit_action": None if s.final_unit_action is None else s.final_unit_action.value,
            "quota_threshold": s.quota_threshold,
        }
        for s in decision.services
    ]
    raw = {
        "outcome": decision.outcome.value,
        "services": services,
        "balance_minor": decision.balance_minor,
        "cost_minor": decision.cost_minor,
        "detail": decision.detail,
        "currency": decision.currency,
    }
    # orjson: the same compact text as json.dumps(separators=(',', ':')) at a tenth of the cost.
    return orjson.dumps(raw).decode()


def decision_from_json(text: str) -> ChargingDecision:
    raw = orjson.loads(text)
    services = tuple(
        ServiceDecision(
            rating_group=s["rating_group"],
            service_identifier=s["service_identifier"],
            outcome=Outcome(s["outcome"]),
            granted=None if s["granted"] is None else UnitAmounts(**s["granted"]),
            validity_time_s=s["validity_time_s"],
            final_unit_action=(
                None if s["final_unit_action"] is None else FinalUnitAction(s["final_unit_action"])
            ),
            quota_threshold=s["quota_threshold"],
        )
        for s in raw["services"]
    )
    return ChargingDecision(
        Outcome(raw["outcome"]),
        services,
        raw["balance_minor"],
        raw["cost_minor"],
        raw["detail"],
        raw["currency"],
    )
