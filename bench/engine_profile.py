"""In-process cost of the charging engine per request (no network): where does time go?

    .venv/bin/python bench/engine_profile.py [--sessions 2000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from functools import partial
from pathlib import Path

from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.charging import ChargingRequest, IdentityType, RequestType, ServiceRequest, UnitAmounts
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.group_commit import GroupCommitter
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber

ADMIN = Actor("bench", frozenset(Privilege))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "bench.db"
    services = build_services(Settings(database_url=f"sqlite:///{db}"))
    load_charging_catalog(services, ADMIN)
    msisdns = [f"3160{i:07d}" for i in range(args.subscribers)]
    for msisdn in msisdns:
        wallet_id = provision_subscriber(services, ADMIN, msisdn)
        services.wallets.top_up(ADMIN, wallet_id, "CASH", 10**9)
    committer = GroupCommitter(services.store)
    committer.start()
    engine = services.charging

    def request(session: str, kind: RequestType, number: int, msisdn: str) -> ChargingRequest:
        used = None if kind is RequestType.INITIAL else UnitAmounts(total_octets=MB)
        requested = None if kind is RequestType.TERMINATION else UnitAmounts(total_octets=MB)
        return ChargingRequest(session, number, kind, ((IdentityType.E164, msisdn),),
                               services.clock.now(),
                               (ServiceRequest(DATA_RG, requested=requested, used=used),))  # fmt: skip

    async def one(n: int) -> None:
        msisdn = msisdns[n % len(msisdns)]
        session = f"b-{n}"
        for number, kind in enumerate((RequestType.INITIAL, RequestType.UPDATE, RequestType.TERMINATION)):
            await committer.submit(partial(engine.process, request=request(session, kind, number, msisdn)))

    async def run() -> None:
        sem = asyncio.Semaphore(args.concurrency)

        async def guarded(n: int) -> None:
            async with sem:
                await one(n)

        await asyncio.gather(*(guarded(n) for n in range(args.sessions)))

    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    asyncio.run(run())
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    committer.stop()
    requests = args.sessions * 3
    print(f"{requests} requests in {elapsed:.2f} s: {requests / elapsed:.0f} requests/s; "
          f"batches {committer.stats.batches}, mean batch {committer.stats.items / committer.stats.batches:.1f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
