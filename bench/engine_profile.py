"""CPU cost of the charging engine per request, in process (no network, no codec).

    .venv/bin/python bench/engine_profile.py [--sessions 300] [--subscribers 50] [--profile]

Runs INITIAL, UPDATE and TERMINATION for each session straight through `ChargingEngine`, in
batches of 100 requests per transaction without savepoints (the group committer's first
attempt), on a fresh SQLite database, and prints the writer thread's CPU time per request.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.charging import (
    ChargingRequest,
    IdentityType,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import CASH, DATA_RG, MB, PRODUCT_TYPE, PROVIDER, load_catalog, msisdn

ADMIN = Actor("bench", frozenset(Privilege))
BATCH_REQUESTS = 100
STEPS = (RequestType.INITIAL, RequestType.UPDATE, RequestType.TERMINATION)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "bench.db"
    services = build_services(Settings(database_url=f"sqlite:///{db}"))
    load_catalog(services, ADMIN)
    customer = services.casm.create_customer(
        ADMIN, CustomerInput(name="Profile", service_provider=PROVIDER)
    )
    account = services.casm.create_account(
        ADMIN, AccountInput(customer_id=customer.id, account_type="PAYER")
    )
    for index in range(args.subscribers):
        number = msisdn(index)
        view = services.casm.create_subscriber(
            ADMIN,
            SubscriberInput(
                number,
                account_id=account.id,
                resources=(ResourceInput("MSISDN", number),),
                wallet=WalletInput(product_type=PRODUCT_TYPE),
            ),
        )
        wallet = services.wallets.subscriber_wallets(ADMIN, view.subscriber.id)[0].wallet
        services.wallets.top_up(ADMIN, wallet.id, CASH, 10**9)

    def request(session: int, step: int) -> ChargingRequest:
        kind = STEPS[step]
        used = None if kind is RequestType.INITIAL else UnitAmounts(total_octets=MB)
        wanted = None if kind is RequestType.TERMINATION else UnitAmounts(total_octets=MB)
        identity = (IdentityType.E164, msisdn(session % args.subscribers))
        service = ServiceRequest(DATA_RG, requested=wanted, used=used)
        return ChargingRequest(
            f"p-{session}", step, kind, (identity,), services.clock.now(), (service,)
        )

    requests = [request(s, step) for s in range(args.sessions) for step in range(len(STEPS))]
    profiler = cProfile.Profile() if args.profile else None
    started_cpu, started = time.thread_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for first in range(0, len(requests), BATCH_REQUESTS):
        with services.store.transaction() as uow:
            for item in requests[first : first + BATCH_REQUESTS]:
                services.charging.process(uow, item)
    if profiler is not None:
        profiler.disable()
    cpu_s, wall_s = time.thread_time() - started_cpu, time.perf_counter() - started
    print(
        f"{len(requests)} requests: {cpu_s / len(requests) * 1e6:.0f} us CPU per request, "
        f"{len(requests) / wall_s:.0f} requests/s wall"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        profiler.dump_stats("/tmp/engine.prof")


if __name__ == "__main__":
    main()
