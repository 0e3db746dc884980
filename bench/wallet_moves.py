"""Wallet moves between charging domains: how many wallets per second one mover achieves.

    .venv/bin/python bench/wallet_moves.py                        # SQLite -> SQLite
    .venv/bin/python bench/wallet_moves.py --target-url postgresql://.../db

Creates --wallets subscribers with wallets in the default domain (a SQLite file in a temp dir)
through a subscriber batch, then moves every wallet to the target domain one by one with
DomainService.move_wallet (the same per-wallet, journaled move a migration makes, without the
throttle), and back. Prints wallets per second each way and checks that every wallet is in
exactly one domain with its cash unchanged.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from ocs.adapters.batch_results import FileResultSink
from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.domains import MoveOutcome
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.batches import BatchInput
from ocs.service.casm import AccountInput, CustomerInput
from ocs.storage import tables as t

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import CASH, PRODUCT_TYPE, PROVIDER, load_catalog

ADMIN = Actor("bench", frozenset(Privilege))
FIRST_NUMBER = 4_780_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wallets", type=int, default=5_000)
    parser.add_argument("--target-url", help="default: another SQLite file in the temp dir")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ocs-moves-bench-"))
    target_url = args.target_url or f"sqlite:///{work / 'target.db'}"
    settings = Settings(
        database_url=f"sqlite:///{work / 'main.db'}",
        charging_domain_urls=(("target", target_url),),
    )
    services = build_services(settings)
    try:
        wallet_ids = provision(services, args.wallets, work)
        before = cash_total(services, wallet_ids)
        print(f"{len(wallet_ids):,} wallets in the default domain; target {target_url}")
        for source, target in (("default", "target"), ("target", "default")):
            started = time.perf_counter()
            for wallet_id in wallet_ids:
                move = services.domains.move_wallet(wallet_id, source, target)
                if move.outcome is not MoveOutcome.MOVED:
                    raise SystemExit(f"wallet {wallet_id}: {move.outcome.value} {move.detail}")
            elapsed = time.perf_counter() - started
            print(
                f"{source} -> {target}: {len(wallet_ids):,} wallets in {elapsed:.1f} s = "
                f"{len(wallet_ids) / elapsed:,.0f} wallets/s"
            )
            summary = services.domains.summary(target)
            if sum(summary.wallets_by_state.values()) != len(wallet_ids):
                raise SystemExit(f"{target} holds {summary.wallets_by_state}")
        after = cash_total(services, wallet_ids)
        if after != before:
            raise SystemExit(f"cash changed: {before} -> {after}")
        print(f"checked: every wallet back in one domain, cash total {after:,} unchanged")
        return 0
    finally:
        services.engine.dispose()
        services.domains.dispose()


def provision(services: Services, count: int, work: Path) -> list[int]:
    load_catalog(services, ADMIN)
    customer = services.casm.create_customer(
        ADMIN, CustomerInput(name="Moves bench", service_provider=PROVIDER)
    )
    account = services.casm.create_account(
        ADMIN, AccountInput(customer_id=customer.id, account_type="PAYER", name="Moves bench")
    )
    result = work / "result.txt"
    inp = BatchInput(
        account_id=account.id,
        batch_size=count,
        product_type=PRODUCT_TYPE,
        result_filename=str(result),
        list_filename="numbers.txt",
    )
    sink = FileResultSink(result, False)
    try:
        services.batches.create(ADMIN, inp, [f"{FIRST_NUMBER}-{FIRST_NUMBER + count - 1}"], sink)
    finally:
        sink.close()
    with services.engine.connect() as conn:
        ids = list(conn.scalars(sa.select(t.wallets.c.id).order_by(t.wallets.c.id)))
    for wallet_id in ids:
        services.wallets.top_up(ADMIN, wallet_id, CASH, 1_000)
    return ids


def cash_total(services: Services, wallet_ids: list[int]) -> int:
    total = 0
    for wallet_id in wallet_ids:
        view = services.wallets.get_wallet(ADMIN, wallet_id)
        total += sum(b.total_value for b in view.balances if b.balance_type == CASH)
    return total


if __name__ == "__main__":
    raise SystemExit(main())
