"""The charging engine's CPU per request on a copy of the benchmark's database, in process.

    .venv/bin/python bench/engine_inprocess.py /tmp/ocs-bench/sqlite-100000.template.db \\
        [--requests 20000] [--batch 100] [--cache-mib 256] [--sessions-concurrent 200]

No network, no codec, no pipe: requests go straight to `ChargingEngine.process`, `--batch`
per transaction (`ChargingEngine.charge_batch`, as in the engine process), on a copy of a database
`bench/provision.py` made (the template that `bench/run_diameter_bench.sh sqlite` caches).
The engine's connections are set up as in its process (commits without fsync, the page
cache, the background checkpointer), so the figure is the engine's main thread: the CPU it
spends per request (`time.thread_time`), which is steadier on a shared machine than any rate.
Sessions of INITIAL, 3 UPDATEs and TERMINATION for random subscribers,
`--sessions-concurrent` of them open at once and served in random order. `--cache-mib 0`
leaves SQLite's default page cache (2 MB). `--wal-kept` never checkpoints, so the WAL ends up
holding every page the requests wrote, and reports its size per request: the pages a request
costs, a figure the machine's load does not move (ADR 0010).
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ocs.bootstrap import Services, build_services
from ocs.charging_worker import set_up_engine
from ocs.config import Settings
from ocs.core import charging as c
from ocs.storage.engine import set_on_each_connection, set_page_cache
from ocs.storage.sqlite_triggers import run_without_triggers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import DATA_RG, MB, msisdn

STEPS = (c.RequestType.INITIAL,) + (c.RequestType.UPDATE,) * 3 + (c.RequestType.TERMINATION,)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("template", type=Path, help="a database bench/provision.py made")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--cache-mib", type=int, default=256)
    parser.add_argument("--sessions-concurrent", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wal-kept", action="store_true", help="never checkpoint; WAL per request")
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "engine.db"
    shutil.copyfile(args.template, db)
    services = build_services(Settings(database_url=f"sqlite:///{db}"))
    if args.wal_kept:
        # The engine process's connections, less the checkpointer and the deferred fsync.
        set_on_each_connection(services.engine, "wal_autocheckpoint=0")
        if args.cache_mib:
            set_page_cache(services.engine, args.cache_mib)
        run_without_triggers(services.engine)
        services.store.pin_connection()
    else:
        set_up_engine(services, args.cache_mib or None)
    requests = _requests(services, args)
    gc.collect()
    gc.freeze()
    started_cpu, started = time.thread_time(), time.perf_counter()
    engine = services.charging
    for first in range(0, len(requests), args.batch):
        # As the engine process charges a batch (charging_worker._charge).
        batch = requests[first : first + args.batch]
        for _, error in engine.charge_batch(services.store, batch):
            assert error is None, error
    cpu_s, wall_s = time.thread_time() - started_cpu, time.perf_counter() - started
    print(
        f"{len(requests)} requests in batches of {args.batch}, page cache "
        f"{args.cache_mib or 'default'} MiB: {cpu_s / len(requests) * 1e6:.0f} us CPU per "
        f"request (main thread), {len(requests) / wall_s:.0f} requests/s wall"
    )
    if args.wal_kept:
        wal_bytes = db.with_name(db.name + "-wal").stat().st_size
        print(f"WAL written: {wal_bytes / len(requests):.0f} bytes per request")
    shutil.rmtree(db.parent)


def _requests(services: Services, args: argparse.Namespace) -> list[c.ChargingRequest]:
    """Interleaved sessions over random subscribers, each request in its session's order."""
    rnd = random.Random(args.seed)
    open_sessions: dict[str, tuple[int, str]] = {}  # session -> (next step, MSISDN)
    requests = []
    for index in range(args.requests):
        if len(open_sessions) < args.sessions_concurrent:
            open_sessions[f"s-{index}"] = (0, msisdn(rnd.randrange(args.subscribers)))
        session_id = rnd.choice(list(open_sessions))
        step, number = open_sessions[session_id]
        kind = STEPS[step]
        used = None if kind is c.RequestType.INITIAL else c.UnitAmounts(total_octets=MB)
        wanted = None if kind is c.RequestType.TERMINATION else c.UnitAmounts(total_octets=MB)
        service = c.ServiceRequest(DATA_RG, requested=wanted, used=used)
        identity = ((c.IdentityType.E164, number),)
        now = services.clock.now()
        requests.append(c.ChargingRequest(session_id, step, kind, identity, now, (service,)))
        if step + 1 == len(STEPS):
            del open_sessions[session_id]
        else:
            open_sessions[session_id] = (step + 1, number)
    return requests


if __name__ == "__main__":
    main()
