"""Crash safety end to end: `kill -9` of `ocs serve` in the middle of a Gy load, a restart on
the same database, and the ledger still adds up.

Checked after the crash (on the database) and again after the restart:
- every update or termination the client saw answered with 2001 is a committed CHARGE EDR of
  its session, in order; the only charge a session may have beyond them is the one request
  that was in flight when the server died;
- the balances plus the committed charges equal the money provisioned, and every wallet's
  balance equals the sum of its EDR deltas;
- a retransmission of an acknowledged request gets the first answer again and charges nothing;
- once the sessions left open by the crash time out, no reservation is OPEN and nothing is held.

Orphaned reservations are released by session supervision: a reservation outlives its
Validity-Time by a fixed grace (a minute), too long for a test, while the session timeout is
a setting (OCS_CHARGING_SESSION_TIMEOUT_S), so both servers run with a short one.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from ocs.adapters.gy_client import GyConnection, GyPeer, Mscc, retransmitted
from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrType
from ocs.core.reservations import ReservationState, SessionState
from ocs.core.security import Privilege
from ocs.diameter.constants import ResultCode
from ocs.diameter.message import Message
from ocs.service.actor import Actor
from ocs.storage import tables as t
from ocs.storage.charging_tables import charging_sessions, reservations
from tests.support.charging import DATA_RG, MB, RATING, load_charging_catalog, provision_subscriber
from tests.support.server_process import start_server

pytestmark = pytest.mark.e2e

# One Origin-Host per connection: the server keeps one connection per peer.
PEERS = tuple(f"pgw{n}.crash.test" for n in range(4))
ADMIN = Actor("e2e", frozenset(Privilege))
SUBSCRIBERS = 20
# The PRE product allows two concurrent accesses per wallet: two sessions at a time each.
WORKERS_PER_SUBSCRIBER = 2
# Requests in flight on one connection (the server answers 3004 beyond 64 per peer).
ASK_WINDOW = 32
CASH_EACH = 5_000
UPDATES_PER_SESSION = 3
REQUESTED_OCTETS = 10 * MB
# The server is killed once the client has this many answers: well into the load.
KILL_AFTER_ANSWERS = 600
LOAD_DEADLINE_S = 30
SESSION_TIMEOUT_S = 4
VALIDITY_TIME_S = 2
SWEEP_INTERVAL_S = 0.5
SETTLE_DEADLINE_S = 20


def _data_rate() -> tuple[int, int]:
    """(price in cents, rounding unit in octets) of the data rate the catalogue charges."""
    for kind, payload in RATING:
        if kind is ConfigKind.TARIFF_RATE and payload["charging_class"] == "DATA":
            return int(str(payload["price"])), int(str(payload["rounding_unit"]))
    raise AssertionError("the charging catalogue has no data rate")


PRICE_CENTS, ROUNDING_OCTETS = _data_rate()


def cost_cents(octets: int) -> int:
    """What the data rate charges for one commit of `octets` (rounded up per commit)."""
    return -(-octets // ROUNDING_OCTETS) * PRICE_CENTS


# -- the server process -----------------------------------------------------------------------


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    diameter_port: int
    log: Path


def _start(database_url: str, tmp_path: Path, name: str, engines: int) -> Serve:
    env = {
        "OCS_CHARGING_ENGINES": str(engines),
        "OCS_DIAMETER_PEERS": ",".join(PEERS),
        "OCS_CHARGING_VALIDITY_TIME_S": str(VALIDITY_TIME_S),
        "OCS_CHARGING_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S),
        "OCS_CHARGING_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
    }
    server = start_server(database_url, tmp_path, name, env)
    return Serve(server.process, server.diameter_port, server.log)


@dataclass
class Plant:
    """The database with its subscribers, and every server started on it."""

    database_url: str
    tmp_path: Path
    services: Services
    wallets: dict[str, int]  # MSISDN -> primary wallet id
    started: list[Serve] = field(default_factory=list)
    engines: int = 1  # charging engine processes per server

    def start(self, name: str) -> Serve:
        serve = _start(self.database_url, self.tmp_path, name, self.engines)
        self.started.append(serve)
        return serve


@pytest.fixture
def plant(database_url: str, tmp_path: Path) -> Iterator[Plant]:
    services = build_services(Settings(database_url=database_url))
    load_charging_catalog(services, ADMIN)
    wallets: dict[str, int] = {}
    for n in range(SUBSCRIBERS):
        msisdn = f"3161{n:07d}"
        wallets[msisdn] = provision_subscriber(services, ADMIN, msisdn)
        services.wallets.top_up(ADMIN, wallets[msisdn], "CASH", CASH_EACH)
    built = Plant(database_url, tmp_path, services, wallets)
    try:
        yield built
    finally:
        for serve in built.started:
            if serve.process.poll() is None:
                serve.process.send_signal(signal.SIGTERM)
                try:
                    serve.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    serve.process.kill()
                    serve.process.wait()
        services.engine.dispose()


# -- the client side: what was sent and what was answered -------------------------------------


@dataclass
class Exchange:
    peer: int  # the index of the peer (and connection) it was sent by
    session_id: str
    kind: str  # INITIAL, UPDATE or TERMINATION
    used_octets: int
    request: Message
    answer: Message | None = None

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None and self.answer.result_code == ResultCode.SUCCESS


@dataclass
class Load:
    kill_after: int
    exchanges: list[Exchange] = field(default_factory=list)
    answered: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    # The killed server's own processes (the charging engine): they may still commit the
    # batch in hand, so the databases are read only once they are gone.
    children: list[int] = field(default_factory=list)

    def by_session(self) -> dict[str, list[Exchange]]:
        sessions: dict[str, list[Exchange]] = defaultdict(list)
        for exchange in self.exchanges:
            sessions[exchange.session_id].append(exchange)
        return sessions


def _steps(worker: int, n: int) -> list[tuple[str, int]]:
    """(request type, used octets) of one session: initial, updates, termination."""
    updates = [("UPDATE", (1 + (worker + n + k) % 3) * MB) for k in range(UPDATES_PER_SESSION)]
    return [("INITIAL", 0), *updates, ("TERMINATION", MB)]


async def _worker(
    gy: GyConnection, peers: list[GyPeer], msisdn: str, worker: int, load: Load
) -> None:
    """Sessions one after the other until the connection dies; one request in flight at most."""
    peer_index = worker % len(peers)
    peer = peers[peer_index]
    n = 0
    while True:
        session_id = f"crash;{worker};{n}"
        for number, (kind, used) in enumerate(_steps(worker, n)):
            requested = None if kind == "TERMINATION" else REQUESTED_OCTETS
            mscc = Mscc(DATA_RG, requested_octets=requested, used_octets=used or None)
            request = peer.ccr(session_id, kind, number, msisdn, (mscc,))
            exchange = Exchange(peer_index, session_id, kind, used, request)
            load.exchanges.append(exchange)
            exchange.answer = await gy.ask(request)
            load.answered += 1
            # Kill right after an answer that leaves its session open (durably: answers follow
            # commits), so the crash always lands mid-session.
            if load.answered >= load.kill_after and kind != "TERMINATION":
                load.enough.set()
            if exchange.answer.result_code != ResultCode.SUCCESS:
                break
        n += 1


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _wait_until_gone(pids: list[int], timeout_s: float) -> None:
    """An orphan may be left a zombie (nobody reaps it here): that counts as gone."""
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        while True:
            try:
                state = stat.read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                break
            if state == "Z":
                break
            assert time.monotonic() < deadline, f"process {pid} outlived the killed server"
            time.sleep(0.05)


async def _load_and_kill(serve: Serve, msisdns: list[str], peers: list[GyPeer]) -> Load:
    load = Load(KILL_AFTER_ANSWERS)
    port = serve.diameter_port
    connections = [await GyConnection.open("127.0.0.1", port, peer) for peer in peers]
    tasks = [
        asyncio.create_task(
            _worker(connections[w % len(peers)], peers, msisdns[w // WORKERS_PER_SUBSCRIBER], w,
                    load)
        )
        for w in range(len(msisdns) * WORKERS_PER_SUBSCRIBER)
    ]  # fmt: skip
    try:
        await asyncio.wait_for(load.enough.wait(), LOAD_DEADLINE_S)
        load.children = _children(serve.process.pid)
        serve.process.send_signal(signal.SIGKILL)
        # Answers already in the socket buffers are still read; then every request waits.
        await asyncio.wait(tasks, timeout=1.0)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for gy in connections:
            await gy.close()
    return load


async def _retransmit(port: int, peers: list[GyPeer], sent: list[Exchange]) -> list[Message]:
    """Send each request again (T flag, same identifiers) from the peer that sent it first, no
    more at a time than the server takes from one peer."""
    connections = [await GyConnection.open("127.0.0.1", port, peer) for peer in peers]
    windows = [asyncio.Semaphore(ASK_WINDOW) for _ in peers]

    async def ask(exchange: Exchange) -> Message:
        async with windows[exchange.peer]:
            return await connections[exchange.peer].ask(retransmitted(exchange.request))

    try:
        return list(await asyncio.gather(*(ask(x) for x in sent)))
    finally:
        for gy in connections:
            await gy.close()


# -- what the database says ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    balances: dict[int, int]  # wallet id -> cash balance, as the wallet service reads it
    delta_sums: dict[int, dict[str, int]]  # wallet id -> sum of EDR deltas per balance type
    charged_units: dict[str, list[int]]  # session id -> units of its CHARGE EDRs, in order
    charged_cents: int  # money taken by CHARGE EDRs
    edr_count: int


def _ledger(services: Services, wallet_ids: list[int]) -> Ledger:
    balances: dict[int, int] = {}
    for wallet_id in wallet_ids:
        view = services.wallets.get_wallet(ADMIN, wallet_id)
        balances[wallet_id] = sum(b.total_value for b in view.balances if b.balance_type == "CASH")
    with services.store.transaction() as uow:
        delta_sums = {wallet_id: uow.edrs.delta_sums(wallet_id) for wallet_id in wallet_ids}
    e, b = t.edrs.c, t.edr_balances.c
    charged_units: dict[str, list[int]] = defaultdict(list)
    with services.engine.connect() as conn:
        for session_id, detail in conn.execute(
            sa.select(e.session_id, e.detail).where(e.type == EdrType.CHARGE).order_by(e.id)
        ):
            charged_units[str(session_id)].append(int(json.loads(detail)["units"]))
        charged = conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(b.delta_value), 0))
            .join(t.edrs, e.id == b.edr_id)
            .where(e.type == EdrType.CHARGE)
        )
        edr_count = int(conn.scalar(sa.select(sa.func.count()).select_from(t.edrs)) or 0)
    return Ledger(balances, delta_sums, dict(charged_units), -int(charged or 0), edr_count)


def _assert_money_adds_up(ledger: Ledger) -> None:
    provisioned = CASH_EACH * SUBSCRIBERS
    assert sum(ledger.balances.values()) + ledger.charged_cents == provisioned
    for wallet_id, balance in ledger.balances.items():
        assert ledger.delta_sums[wallet_id] == {"CASH": balance}, f"wallet {wallet_id}"
    units = [u for per_session in ledger.charged_units.values() for u in per_session]
    assert ledger.charged_cents == sum(cost_cents(u) for u in units)


def _assert_acknowledged_charges_committed(ledger: Ledger, load: Load, exact: bool) -> None:
    """Each session's CHARGE EDRs are its acknowledged commits in order, plus at most the one
    request that was in flight at the crash (unless `exact`: it has been answered since)."""
    sessions = load.by_session()
    assert set(ledger.charged_units) <= set(sessions), "a charge for a session never sent"
    acknowledged_cents = 0
    for session_id, exchanges in sessions.items():
        acknowledged = [x.used_octets for x in exchanges if x.acknowledged and x.used_octets]
        acknowledged_cents += sum(cost_cents(u) for u in acknowledged)
        in_flight = [x for x in exchanges if x.answer is None]
        assert len(in_flight) <= 1, f"{session_id}: more than one request in flight"
        allowed = [acknowledged]
        if in_flight and in_flight[0].used_octets and not exact:
            allowed.append([*acknowledged, in_flight[0].used_octets])
        charged = ledger.charged_units.get(session_id, [])
        assert charged in allowed, f"{session_id}: charged {charged}, allowed {allowed}"
    assert acknowledged_cents <= ledger.charged_cents
    if exact:
        assert acknowledged_cents == ledger.charged_cents


def _open_counts(services: Services) -> tuple[int, int]:
    with services.engine.connect() as conn:
        open_reservations = conn.scalar(
            sa.select(sa.func.count()).where(reservations.c.state == ReservationState.OPEN)
        )
        open_sessions = conn.scalar(
            sa.select(sa.func.count()).where(charging_sessions.c.state == SessionState.OPEN)
        )
    return int(open_reservations or 0), int(open_sessions or 0)


# -- the test -----------------------------------------------------------------------------------


def test_kill_9_under_load_loses_no_acknowledged_charge_and_leaves_nothing_held(
    plant: Plant,
) -> None:
    _kill_9_under_load(plant)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_kill_9_with_two_engines_loses_no_acknowledged_charge(plant: Plant) -> None:
    plant.engines = 2
    _kill_9_under_load(plant)


def _kill_9_under_load(plant: Plant) -> None:
    services = plant.services
    msisdns = sorted(plant.wallets)
    wallet_ids = [plant.wallets[m] for m in msisdns]
    peers = [GyPeer(host, "crash.test") for host in PEERS]

    # 1. Load, and kill -9 in the middle of it.
    first = plant.start("first")
    load = asyncio.run(_load_and_kill(first, msisdns, peers))
    assert first.process.wait(timeout=10) == -signal.SIGKILL
    assert len(load.children) >= plant.engines, "the server had too few engine processes"
    _wait_until_gone(load.children, timeout_s=30)
    answers = [x.answer for x in load.exchanges if x.answer is not None]
    assert len(answers) >= KILL_AFTER_ANSWERS
    assert all(a.result_code == ResultCode.SUCCESS for a in answers), first.log.read_text()
    answered_workers = {x.session_id.split(";")[1] for x in load.exchanges if x.answer}
    assert len(answered_workers) == SUBSCRIBERS * WORKERS_PER_SUBSCRIBER, "a worker starved"
    in_flight = [x for x in load.exchanges if x.answer is None]
    assert in_flight, "the server was killed with nothing in flight"
    _, open_sessions = _open_counts(services)
    assert open_sessions > 0, "the crash left no session open: it did not hit mid-session"

    crashed = _ledger(services, wallet_ids)
    _assert_money_adds_up(crashed)
    _assert_acknowledged_charges_committed(crashed, load, exact=False)

    # 2. Restart on the same database.
    second = plant.start("second")
    port = second.diameter_port

    # 3. Every acknowledged update and termination, retransmitted: the first answer again,
    # and not a cent more.
    acknowledged = [
        x for x in load.exchanges if x.acknowledged and x.kind in ("UPDATE", "TERMINATION")
    ]
    replies = asyncio.run(_retransmit(port, peers, acknowledged))
    for exchange, reply in zip(acknowledged, replies, strict=True):
        assert exchange.answer is not None
        assert reply.avps == exchange.answer.avps, exchange.session_id
    assert _ledger(services, wallet_ids) == crashed

    # The requests the crash left unanswered, sent again as a network element would: each is
    # either replayed (it was committed) or decided now, so every charge is acknowledged.
    retries = asyncio.run(_retransmit(port, peers, in_flight))
    for exchange, reply in zip(in_flight, retries, strict=True):
        exchange.answer = reply
    recovered = _ledger(services, wallet_ids)
    _assert_money_adds_up(recovered)
    _assert_acknowledged_charges_committed(recovered, load, exact=True)

    # 4. Sessions the crash left open time out and their reservations expire: nothing stuck.
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    while _open_counts(services) != (0, 0):
        assert time.monotonic() < deadline, f"still open: {_open_counts(services)}"
        time.sleep(0.2)
    with services.engine.connect() as conn:
        query = sa.select(reservations.c.state, sa.func.count()).group_by(reservations.c.state)
        states = {str(state): int(count) for state, count in conn.execute(query)}
    assert set(states) <= {"COMMITTED", "REVOKED", "EXPIRED"}, states
    assert states.get("EXPIRED", 0) > 0, f"no reservation expired after the crash: {states}"
    with services.store.transaction() as uow:
        held = {w: uow.charging.holds_of_wallet(w) for w in wallet_ids}
    assert all(h == {} for h in held.values()), held
    settled = _ledger(services, wallet_ids)
    assert settled == recovered
    _assert_money_adds_up(settled)
    assert second.process.poll() is None, second.log.read_text()
