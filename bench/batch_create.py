"""Create a subscriber batch of N subscribers (default 1,000,000) from a one-line range file.

    .venv/bin/python bench/batch_create.py                       # fresh SQLite in a temp dir
    .venv/bin/python bench/batch_create.py --subscribers 20000 --pins
    .venv/bin/python bench/batch_create.py --database-url postgresql://.../db

Goes through BatchService exactly as `ocs batch create` does (prepare: checks and the
numbers-in-use queries; run: chunks of --chunk subscribers, one transaction each), with the
bench catalogue (bench/catalog.py) and one account for the whole batch. Prints elapsed seconds,
subscribers per second and the peak RSS of this process, then reads a sample of the new
subscribers back through the services (MSISDN -> subscriber -> wallet, balance == EDR sum).
A PostgreSQL database should be empty or hold an earlier run: the numbers start after the
highest subscriber ID already there.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from ocs.adapters.batch_results import FileResultSink
from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.batches import BatchInput
from ocs.service.casm import AccountInput, CustomerInput

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import PRODUCT_TYPE, PROVIDER, load_catalog

ADMIN = Actor("bench", frozenset(Privilege))
FIRST_NUMBER = 4_790_000_000  # 10 digits; batches of a later run continue after the last one
REPORT_EVERY = 100_000


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="subscribers per transaction")
    parser.add_argument("--pins", action="store_true", help="add 8-digit PINs (argon2id)")
    parser.add_argument("--pin-length", type=int, default=8)
    parser.add_argument("--verify-sample", type=int, default=50)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ocs-batch-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    services = build_services(Settings(database_url=url))
    services.batches.chunk_subscribers = args.chunk
    try:
        load_catalog(services, ADMIN)
        existing = services.batches.search(ADMIN)
        runs = len(existing)
        first = FIRST_NUMBER + runs * 10_000_000
        name = f"Batch bench {runs + 1}"
        customer = services.casm.create_customer(
            ADMIN, CustomerInput(name=name, service_provider=PROVIDER)
        )
        account = services.casm.create_account(
            ADMIN, AccountInput(customer_id=customer.id, account_type="PAYER", name=name)
        )
        list_file = work / "numbers.txt"
        list_file.write_text(f"# bench\n{first}-{first + args.subscribers - 1}\n")
        result_file = work / "result.txt"
        inp = BatchInput(
            account_id=account.id,
            batch_size=args.subscribers,
            product_type=PRODUCT_TYPE,
            result_filename=str(result_file),
            list_filename=list_file.name,
            add_pins=args.pins,
            pin_length=args.pin_length if args.pins else None,
        )
        print(f"database {url}", flush=True)
        print(
            f"creating {args.subscribers:,} subscribers in chunks of {args.chunk:,}"
            f"{' with PINs' if args.pins else ''}",
            flush=True,
        )
        started = time.perf_counter()
        last_report = [0]

        def progress(done: int, total: int) -> None:
            if done - last_report[0] >= REPORT_EVERY or done == total:
                last_report[0] = done
                elapsed = time.perf_counter() - started
                print(
                    f"  {done:>10,} / {total:,}  {elapsed:7.1f} s  {done / elapsed:9,.0f} /s  "
                    f"peak RSS {peak_rss_mib():6.0f} MiB",
                    flush=True,
                )

        sink = FileResultSink(result_file, args.pins)
        try:
            with list_file.open() as lines:
                batch = services.batches.create(ADMIN, inp, lines, sink, progress)
        finally:
            sink.close()
        elapsed = time.perf_counter() - started
        print(
            f"batch {batch.id} {batch.state.value}: {batch.created_count:,} subscribers in "
            f"{elapsed:.1f} s = {batch.created_count / elapsed:,.0f} subscribers/s"
            f"{' (with PINs)' if args.pins else ''}; peak RSS {peak_rss_mib():.0f} MiB"
        )
        checked = verify(services, batch.id, args.subscribers, args.verify_sample)
        print(f"verified {checked} subscribers through the services")
        return 0
    finally:
        services.engine.dispose()


def verify(services, batch_id: int, size: int, sample: int) -> int:  # type: ignore[no-untyped-def]
    """Read random members back: resource lookup, wallet, EDR reconciliation."""
    members = services.batches.members(ADMIN, batch_id, 0, 1)
    first_id = members[0].id
    picks = random.Random(1).sample(range(size), min(sample, size))
    for offset in picks:
        [member] = services.batches.members(ADMIN, batch_id, first_id + offset - 1, 1)
        found = services.casm.find_subscriber_by_resource(ADMIN, member.subscriber_id, "MSISDN")
        wallets = services.wallets.subscriber_wallets(ADMIN, found.subscriber.id)
        if [w.wallet.reference for w in wallets] != [member.wallet_reference]:
            raise SystemExit(f"{member.subscriber_id}: wallet {member.wallet_reference} not found")
        bad = [c for c in services.edrs.reconcile(ADMIN, wallets[0].wallet.id) if not c.consistent]
        if bad:
            raise SystemExit(f"{member.subscriber_id}: balance != EDR deltas: {bad}")
    return len(picks)


if __name__ == "__main__":
    raise SystemExit(main())
