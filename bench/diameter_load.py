"""Diameter Gy load generator: many concurrent credit-control sessions over real TCP.

    .venv/bin/python bench/diameter_load.py --port 3868 --server-pid PID \\
        --connections 4 --sessions-concurrent 200 --duration-s 30 --updates 3 \\
        [--rate 2000] --subscribers 100000

Plays the network elements (PGWs): opens --connections Diameter connections, each a peer of
its own (CER with Origin-Host pgw0.bench.local, pgw1..., which OCS_DIAMETER_PEERS must allow:
the server keeps one connection per Origin-Host), and runs sessions, each a CCR-I, --updates
CCR-Us (used + requested units) and a CCR-T, for random subscribers among the --subscribers
that bench/provision.py created.

Two modes:
- closed loop (no --rate): --sessions-concurrent sessions back to back, each request sent when
  the previous answer arrived: the most the server does with that many sessions in flight.
- open loop (--rate R): new sessions start on a fixed schedule so that requests arrive at R/s
  whatever the server does (at most --sessions-concurrent at a time). A session's first
  request is timed from its scheduled start, so a server (or generator) that falls behind
  shows in the latency instead of silently lowering the rate.

Prints requests/s, latency p50/p95/p99/max (ms), Result-Code counts, the server's CPU
(utime+stime from /proc/<pid>/stat of the server and its charging engine process over the
measured window, % of one core, so up to 200 % on two cores) and the
generator's own CPU, saying when the generator itself was the bottleneck.

The generator is kept cheap: each request is a copy of a pre-encoded template with the
Session-Id digits, MSISDN, CC-Request-Number and hop-by-hop id patched in place; answers are
read with a struct walk of the top-level AVPs, not a full decode.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import struct
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ocs.adapters.gy_client import GyPeer, Mscc
from ocs.diameter import dictionary as d
from ocs.diameter.codec import decode, encode
from ocs.diameter.constants import FLAG_REQUEST, CommandCode, ResultCode
from ocs.diameter.message import Avp, Origin, make_answer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import DATA_RG, MB, msisdn

RESULT_CODE_AVP = 268
SESSION_DIGITS = 12
REQUEST_NUMBER_MARK = 0x5A5A5A5A
IN_FLIGHT_PER_CONNECTION_MAX = 64  # the server answers 3004 beyond this (PeerConfig)
DRAIN_TIMEOUT_S = 10.0
CLOCK_TICKS_S = os.sysconf("SC_CLK_TCK")
GENERATOR_CPU_BOUND_PERCENT = 85.0


# -- pre-encoded requests -------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    data: bytes
    session_at: int
    msisdn_at: int
    number_at: int


def _only(data: bytes, mark: bytes, what: str) -> int:
    if data.count(mark) != 1:
        raise RuntimeError(f"template: {what} placeholder found {data.count(mark)} times")
    return data.index(mark)


def make_template(peer: GyPeer, prefix: str, kind: str, service: Mscc, msisdn_len: int) -> Template:
    session_mark = "#" * SESSION_DIGITS
    msisdn_mark = "M" * msisdn_len
    message = peer.ccr(f"{prefix}{session_mark}", kind, 0, msisdn_mark, (service,))
    # The request number gets a recognisable value to find its bytes.
    for avp in message.avps:
        if avp.code == d.CC_REQUEST_NUMBER.code:
            avp.value = REQUEST_NUMBER_MARK
    data = encode(message)
    return Template(
        data,
        _only(data, session_mark.encode(), "Session-Id"),
        _only(data, msisdn_mark.encode(), "MSISDN"),
        _only(data, struct.pack(">I", REQUEST_NUMBER_MARK), "CC-Request-Number"),
    )


@dataclass(frozen=True)
class Templates:
    initial: Template
    update: Template
    termination: Template

    @classmethod
    def build(
        cls, peer: GyPeer, run_tag: str, used_octets: int, requested_octets: int
    ) -> Templates:
        prefix = f"{peer.origin_host};{run_tag};"
        width = len(msisdn(0))
        return cls(
            make_template(peer, prefix, "INITIAL",
                          Mscc(DATA_RG, requested_octets=requested_octets), width),
            make_template(peer, prefix, "UPDATE",
                          Mscc(DATA_RG, requested_octets=requested_octets,
                               used_octets=used_octets), width),
            make_template(peer, prefix, "TERMINATION",
                          Mscc(DATA_RG, used_octets=used_octets), width),
        )  # fmt: skip


def fill(template: Template, hop: int, session: int, number: bytes, request_number: int) -> bytes:
    buf = bytearray(template.data)
    struct.pack_into(">II", buf, 12, hop, hop)
    at = template.session_at
    buf[at : at + SESSION_DIGITS] = b"%012d" % session
    at = template.msisdn_at
    buf[at : at + len(number)] = number
    struct.pack_into(">I", buf, template.number_at, request_number)
    return bytes(buf)


def result_code(message: bytes) -> int:
    """The top-level Result-Code of an answer (0 if it has none), by a plain AVP walk."""
    pos, end = 20, len(message)
    while pos + 8 <= end:
        code, flags_length = struct.unpack_from(">II", message, pos)
        length = flags_length & 0xFFFFFF
        if length < 8:
            return 0
        if code == RESULT_CODE_AVP:
            header = 12 if flags_length & 0x80000000 else 8
            return int(struct.unpack_from(">I", message, pos + header)[0])
        pos += (length + 3) & ~3
    return 0


# -- one connection -------------------------------------------------------------------------------


class GyProtocol(asyncio.Protocol):
    """Frames answers off the stream and settles the future of each by hop-by-hop id."""

    def __init__(self, origin: Origin, templates: Templates) -> None:
        self.origin = origin
        self.templates = templates
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: dict[int, asyncio.Future[int]] = {}
        self.cea: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.hops = itertools.count(1)
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= 20:
            length = int.from_bytes(buffer[1:4], "big")
            if len(buffer) < length:
                return
            message = bytes(buffer[:length])
            del buffer[:length]
            if message[4] & FLAG_REQUEST:
                self._answer_request(message)
                continue
            hop = int.from_bytes(message[12:16], "big")
            waiter = self.waiting.pop(hop, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(result_code(message))
            elif not self.cea.done():
                self.cea.set_result(result_code(message))

    def _answer_request(self, raw: bytes) -> None:
        """Watchdogs from the server get their DWA; nothing else is expected."""
        request = decode(raw)
        answer = make_answer(request, self.origin, ResultCode.SUCCESS)
        if request.command_code == CommandCode.DEVICE_WATCHDOG:
            answer.avps.append(Avp.of(d.ORIGIN_STATE_ID, self.origin.state_id))
        assert self.transport is not None
        self.transport.write(encode(answer))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("closed by the server")
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"connection lost: {self.lost}"))
        self.waiting.clear()
        if not self.cea.done():
            self.cea.set_exception(ConnectionError("closed before the CEA"))

    def send(self, data: bytes, hop: int) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if self.lost is not None or self.transport is None:
            future.set_exception(ConnectionError(f"connection lost: {self.lost}"))
            return future
        self.waiting[hop] = future
        self.transport.write(data)
        return future


async def open_connection(host: str, port: int, peer: GyPeer, templates: Templates) -> GyProtocol:
    origin = Origin(peer.origin_host, peer.origin_realm, int(time.time()) & 0xFFFFFFFF)
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: GyProtocol(origin, templates), host, port)
    assert protocol.transport is not None
    protocol.transport.write(encode(peer.cer()))
    code = await asyncio.wait_for(protocol.cea, 10)
    if code != ResultCode.SUCCESS:
        protocol.transport.close()
        raise ConnectionError(f"CER refused with Result-Code {code} (is the Origin-Host allowed?)")
    return protocol


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Window:
    """What is recorded between start and end (perf_counter seconds)."""

    start: float = math.inf
    end: float = math.inf
    latencies_s: list[float] = field(default_factory=list)
    codes: Counter[int] = field(default_factory=Counter)
    answers: int = 0
    sessions_started: int = 0
    connection_errors: int = 0

    def record(self, sent: float, answered: float, code: int) -> None:
        if self.start <= answered <= self.end:
            self.answers += 1
            self.codes[code] += 1
            if sent >= self.start:
                self.latencies_s.append(answered - sent)


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def family_ticks(pid: int) -> int:
    """CPU of a process and its live children (a PostgreSQL postmaster and its backends, ocs
    serve and its charging engine processes)."""
    return cpu_ticks(pid) + children_ticks(pid)


def children_ticks(pid: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


# -- sessions ----------------------------------------------------------------------------------


@dataclass
class Load:
    args: argparse.Namespace
    connections: list[GyProtocol]
    window: Window
    rng: random.Random
    stop_at: float
    sessions: itertools.count[int] = field(default_factory=itertools.count)
    msisdns: dict[int, bytes] = field(default_factory=dict)

    def msisdn(self, index: int) -> bytes:
        number = self.msisdns.get(index)
        if number is None:
            number = self.msisdns[index] = msisdn(index).encode()
        return number

    async def session(self, connection: GyProtocol, scheduled: float | None = None) -> None:
        """One session: CCR-I, updates, CCR-T; stops early on a failure or at the end."""
        session = next(self.sessions)
        number = self.msisdn(self.rng.randrange(self.args.subscribers))
        window = self.window
        templates = connection.templates
        steps = [templates.initial, *[templates.update] * self.args.updates, templates.termination]
        ended = len(steps) - 1
        window.sessions_started += 1
        for request_number, template in enumerate(steps):
            if time.perf_counter() >= self.stop_at and 0 < request_number < ended:
                template, request_number = templates.termination, ended  # wind down
            hop = next(connection.hops) & 0xFFFFFFFF
            data = fill(template, hop, session, number, request_number)
            sent = time.perf_counter()
            if scheduled is not None and request_number == 0:
                sent = min(sent, scheduled)  # time the first request from its schedule
            try:
                code = await connection.send(data, hop)
            except ConnectionError:
                window.connection_errors += 1
                return
            window.record(sent, time.perf_counter(), code)
            if code != ResultCode.SUCCESS or request_number == ended:
                return

    async def closed_loop(self, slot: int) -> None:
        connection = self.connections[slot % len(self.connections)]
        while time.perf_counter() < self.stop_at and connection.lost is None:
            await self.session(connection)

    async def open_loop(self) -> None:
        """Start sessions on schedule: rate / (requests per session) sessions per second."""
        per_session = self.args.updates + 2
        interval = per_session / self.args.rate
        slots = asyncio.Semaphore(self.args.sessions_concurrent)
        tasks: set[asyncio.Task[None]] = set()
        begin = time.perf_counter()
        started = 0

        async def run(connection: GyProtocol, scheduled: float) -> None:
            async with slots:
                await self.session(connection, scheduled)

        while (now := time.perf_counter()) < self.stop_at:
            due = int((now - begin) / interval) + 1
            while started < due:
                scheduled = begin + started * interval
                connection = self.connections[started % len(self.connections)]
                task = asyncio.create_task(run(connection, scheduled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                started += 1
            await asyncio.sleep(min(interval, 0.002))
        if tasks:
            await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S)


def origin_hosts(pattern: str, count: int) -> list[str]:
    hosts = [pattern.format(n=n) for n in range(count)]
    if len(set(hosts)) != count:
        raise SystemExit(f"--origin-host {pattern!r} must give each connection its own ({{n}})")
    return hosts


async def loop_lag(samples: list[float], stop_at: float) -> None:
    """How late the event loop wakes up: a generator that cannot keep up shows here."""
    while (before := time.perf_counter()) < stop_at:
        await asyncio.sleep(0.01)
        samples.append(time.perf_counter() - before - 0.01)


async def run(args: argparse.Namespace) -> dict[str, object]:
    tag = f"{os.getpid()}x{int(time.time())}"
    connections = []
    for host in origin_hosts(args.origin_host, args.connections):
        peer = GyPeer(host, args.origin_realm, args.destination_realm)
        templates = Templates.build(peer, tag, args.used_octets, args.requested_octets)
        connections.append(await open_connection(args.host, args.port, peer, templates))
    window = Window()
    begin = time.perf_counter()
    window.start = begin + args.warmup_s
    window.end = window.start + args.duration_s
    load = Load(args, connections, window, random.Random(args.seed), window.end)
    lags: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lags, window.end))

    async def measure() -> tuple[int | None, int | None, int | None, float, float]:
        await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
        # The server with its children: the charging engine runs in a child process.
        server0 = family_ticks(args.server_pid) if args.server_pid else None
        engines0 = children_ticks(args.server_pid) if args.server_pid else None
        db0 = family_ticks(args.db_pid) if args.db_pid else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
        wall = time.perf_counter() - wall0
        server = family_ticks(args.server_pid) - server0 if server0 is not None else None
        engines = children_ticks(args.server_pid) - engines0 if engines0 is not None else None
        db = family_ticks(args.db_pid) - db0 if db0 is not None else None
        return server, engines, db, time.process_time() - cpu0, wall

    measurer = asyncio.create_task(measure())
    if args.rate:
        await load.open_loop()
    else:
        sessions = [
            asyncio.create_task(load.closed_loop(i)) for i in range(args.sessions_concurrent)
        ]
        await asyncio.wait(sessions, timeout=window.end - time.perf_counter() + DRAIN_TIMEOUT_S)
    server_ticks, engine_ticks, db_ticks, own_cpu_s, wall_s = await measurer
    await lag_task
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()

    latencies = sorted(window.latencies_s)
    lags.sort()
    ms = 1000.0
    own_cpu_percent = 100 * own_cpu_s / wall_s
    return {
        "mode": f"open loop at {args.rate}/s" if args.rate else "closed loop",
        "duration_s": round(wall_s, 2),
        "connections": args.connections,
        "sessions_concurrent": args.sessions_concurrent,
        "updates": args.updates,
        "requests_per_s": round(window.answers / wall_s, 1),
        "target_per_s": args.rate,
        "sessions_started": window.sessions_started,
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * ms, 2),
            "p95": round(percentile(latencies, 95) * ms, 2),
            "p99": round(percentile(latencies, 99) * ms, 2),
            "max": round((latencies[-1] if latencies else math.nan) * ms, 2),
        },
        "result_codes": {str(k): v for k, v in sorted(window.codes.items())},
        "connection_errors": window.connection_errors,
        "server_cpu_percent": (
            None if server_ticks is None else round(100 * server_ticks / CLOCK_TICKS_S / wall_s, 1)
        ),
        "server_cpu_ms_per_request": (
            None
            if server_ticks is None or not window.answers
            else round(1000 * server_ticks / CLOCK_TICKS_S / window.answers, 3)
        ),
        # Of the server's: its charging engine processes (the rest is the network side).
        "engine_cpu_percent": (
            None if engine_ticks is None else round(100 * engine_ticks / CLOCK_TICKS_S / wall_s, 1)
        ),
        "db_cpu_percent": (
            None if db_ticks is None else round(100 * db_ticks / CLOCK_TICKS_S / wall_s, 1)
        ),
        "generator_cpu_percent": round(own_cpu_percent, 1),
        "generator_cpu_bound": own_cpu_percent >= GENERATOR_CPU_BOUND_PERCENT,
        "loop_lag_ms_p99": round(percentile(lags, 99) * ms, 2),
    }


def report(result: dict[str, object]) -> str:
    latency = result["latency_ms"]
    assert isinstance(latency, dict)
    lines = [
        f"mode               {result['mode']}, {result['duration_s']} s measured, "
        f"{result['connections']} connections, up to {result['sessions_concurrent']} sessions, "
        f"{result['updates']} updates per session",
        f"requests/s         {result['requests_per_s']}"
        + (f" (target {result['target_per_s']})" if result["target_per_s"] else ""),
        f"latency ms         p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}  "
        f"max {latency['max']}",
        f"result codes       {result['result_codes']}  connection errors "
        f"{result['connection_errors']}",
        f"server CPU         {result['server_cpu_percent']} % of one core, "
        f"{result['server_cpu_ms_per_request']} ms per request"
        + (f", engines {result['engine_cpu_percent']} %" if result["engine_cpu_percent"] else "")
        + (f"  (database {result['db_cpu_percent']} %)" if result["db_cpu_percent"] else ""),
        f"generator CPU      {result['generator_cpu_percent']} % of one core, event loop lag p99 "
        f"{result['loop_lag_ms_p99']} ms"
        + ("  << the generator was CPU-bound" if result["generator_cpu_bound"] else ""),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3868)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sessions-concurrent", type=int, default=200)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--updates", type=int, default=3, help="CCR-Us per session")
    parser.add_argument("--rate", type=float, default=0.0, help="target requests/s (open loop)")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--used-octets", type=int, default=3 * MB)
    parser.add_argument("--requested-octets", type=int, default=10 * MB)
    parser.add_argument("--server-pid", type=int, default=0, help="ocs serve, for its CPU")
    parser.add_argument("--db-pid", type=int, default=0, help="PostgreSQL postmaster, for its CPU")
    parser.add_argument(
        "--origin-host",
        default="pgw{n}.bench.local",
        help="Origin-Host of connection n (0, 1, ...): the server keeps one connection per "
        "Origin-Host, so each needs its own, allowed in OCS_DIAMETER_PEERS",
    )
    parser.add_argument("--origin-realm", default="bench.local")
    parser.add_argument("--destination-realm", default="localdomain")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also append the result as one JSON line")
    args = parser.parse_args(argv)
    per_connection = math.ceil(args.sessions_concurrent / args.connections)
    if per_connection > IN_FLIGHT_PER_CONNECTION_MAX:
        parser.error(
            f"{per_connection} sessions per connection: the server answers 3004 beyond "
            f"{IN_FLIGHT_PER_CONNECTION_MAX} requests in flight per peer; add --connections"
        )
    result = asyncio.run(run(args))
    print(report(result), flush=True)
    if args.json:
        with args.json.open("a") as out:
            out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
