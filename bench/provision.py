"""Provision a benchmark database: the bench catalogue and many chargeable subscribers.

    .venv/bin/python bench/provision.py --database-url sqlite:////tmp/ocs-bench/bench.db \\
        --subscribers 100000

Each subscriber gets its own customer and account, an MSISDN resource (bench/catalog.py
numbers them), a PRIMARY wallet of the bench product type and a cash balance recharged to
--cash-cents.

Going through the service layer costs milliseconds per subscriber, far too slow for 100,000.
So the first subscriber is created through the real services (CasmService, WalletService),
its rows are read back from every table the services wrote, and the others are inserted as
copies of those rows (new ids, MSISDN, names, wallet reference) with SQLAlchemy Core
executemany batches. The copies carry the same WALLET_CREATED and RECHARGE EDRs with their
edr_balances lines, so every balance still equals the sum of its EDR deltas. If the services
ever write a table this loader does not know for a new subscriber, it stops and says which.

At the end a random sample of wallets is read back through the services: the cash balance,
the EDR reconciliation (balance == sum of EDR deltas) and the MSISDN -> subscriber -> wallet
lookup the charging engine uses. Works on SQLite and PostgreSQL URLs; a database that already
holds the subscribers is only verified.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.casm import customer_name_key
from ocs.core.security import Privilege
from ocs.core.wallets import WalletType, generated_reference
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from ocs.storage import tables as t
from ocs.storage.tables import metadata

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.catalog import CASH, MSISDN_PREFIX, PRODUCT_TYPE, PROVIDER, load_catalog, msisdn

ADMIN = Actor("bench", frozenset(Privilege))
Row = dict[str, Any]

# Tables a new subscriber writes, in insert order (foreign keys first). audit_log is left
# out on purpose: the bulk load is not an operator action per subscriber; the trigger on edrs
# fills subscriber_edr_wallets for the copied EDRs as it does for the services' own.
CLONED = (
    t.customers,
    t.accounts,
    t.subscribers,
    t.resources,
    t.wallets,
    t.wallet_links,
    t.wallet_balances,
    t.buckets,
    t.wallet_history,
    t.edrs,
    t.edr_balances,
    t.edr_tags,
)
NOT_CLONED = {t.audit_log.name, t.subscriber_edr_wallets.name}
# Tables whose integer `id` the loader assigns (PostgreSQL sequences are moved past them).
ID_TABLES = (
    t.customers,
    t.accounts,
    t.subscribers,
    t.resources,
    t.wallets,
    t.buckets,
    t.wallet_history,
    t.edrs,
)


def customer_name(index: int) -> str:
    return f"Bench {msisdn(index)}"


# -- the template: one subscriber through the services -----------------------------------------


@dataclass(frozen=True)
class Template:
    """The rows the services wrote for subscriber 0, by table name."""

    customer_id: int
    account_id: int
    subscriber_id: int
    wallet_id: int
    rows: dict[str, list[Row]]


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def create_template(services: Services, cash_cents: int) -> Template:
    before = _counts(services.engine)
    name = customer_name(0)
    customer = services.casm.create_customer(
        ADMIN, CustomerInput(name=name, service_provider=PROVIDER)
    )
    account = services.casm.create_account(
        ADMIN, AccountInput(customer_id=customer.id, account_type="PAYER", name=name)
    )
    number = msisdn(0)
    view = services.casm.create_subscriber(
        ADMIN,
        SubscriberInput(
            number, account_id=account.id, resources=(ResourceInput("MSISDN", number),)
        ),
    )
    created = services.wallets.create_wallet(
        ADMIN, view.subscriber.id, WalletType.PRIMARY.value, WalletInput(product_type=PRODUCT_TYPE)
    )
    wallet_id = created.wallet.id
    services.wallets.top_up(ADMIN, wallet_id, CASH, cash_cents)
    written = {n for n, c in _counts(services.engine).items() if c != before[n]}
    unknown = written - {table.name for table in CLONED} - NOT_CLONED
    if unknown:
        raise SystemExit(
            f"the services now write {sorted(unknown)} for a new subscriber: teach "
            "bench/provision.py to copy those rows"
        )
    with services.engine.connect() as conn:

        def rows(table: sa.Table, where: sa.ColumnElement[bool]) -> list[Row]:
            order = list(table.primary_key.columns)
            return [
                dict(r._mapping)
                for r in conn.execute(sa.select(table).where(where).order_by(*order))
            ]

        edrs = rows(t.edrs, t.edrs.c.wallet_id == wallet_id)
        edr_ids = [e["id"] for e in edrs]
        found = {
            t.customers.name: rows(t.customers, t.customers.c.id == customer.id),
            t.accounts.name: rows(t.accounts, t.accounts.c.id == account.id),
            t.subscribers.name: rows(t.subscribers, t.subscribers.c.id == view.subscriber.id),
            t.resources.name: rows(t.resources, t.resources.c.subscriber_id == view.subscriber.id),
            t.wallets.name: rows(t.wallets, t.wallets.c.id == wallet_id),
            t.wallet_links.name: rows(t.wallet_links, t.wallet_links.c.wallet_id == wallet_id),
            t.wallet_balances.name: rows(
                t.wallet_balances, t.wallet_balances.c.wallet_id == wallet_id
            ),
            t.buckets.name: rows(t.buckets, t.buckets.c.wallet_id == wallet_id),
            t.wallet_history.name: rows(
                t.wallet_history, t.wallet_history.c.wallet_id == wallet_id
            ),
            t.edrs.name: edrs,
            t.edr_balances.name: rows(t.edr_balances, t.edr_balances.c.edr_id.in_(edr_ids)),
            t.edr_tags.name: rows(t.edr_tags, t.edr_tags.c.edr_id.in_(edr_ids)),
        }
    for table in CLONED:
        written_rows = len(found[table.name])
        if table.name in written and not written_rows:
            raise SystemExit(f"rows the services wrote in {table.name} were not found")
    return Template(customer.id, account.id, view.subscriber.id, wallet_id, found)


# -- the copies ---------------------------------------------------------------------------------


class Ids:
    """The next free integer id of each table, taken once at the start."""

    def __init__(self, conn: sa.Connection) -> None:
        self.next = {
            table.name: int(conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
            for table in ID_TABLES
        }

    def take(self, table: sa.Table, count: int) -> int:
        first = self.next[table.name]
        self.next[table.name] += count
        return first


def clone_rows(template: Template, indexes: range, ids: Ids) -> dict[str, list[Row]]:
    """The rows of subscribers `indexes`, shaped exactly like the template's."""
    tr = template.rows
    out: dict[str, list[Row]] = {table.name: [] for table in CLONED}
    per = {table.name: len(tr[table.name]) for table in ID_TABLES}
    first = {table.name: ids.take(table, per[table.name] * len(indexes)) for table in ID_TABLES}
    reference_of_template = tr[t.wallets.name][0]["reference"]
    for k, index in enumerate(indexes):
        number = msisdn(index)
        name = customer_name(index)

        def new_id(table: sa.Table, j: int, _k: int = k) -> int:
            return first[table.name] + _k * per[table.name] + j

        customer_id = new_id(t.customers, 0)
        account_id = new_id(t.accounts, 0)
        subscriber_id = new_id(t.subscribers, 0)
        wallet_id = new_id(t.wallets, 0)
        reference = generated_reference(wallet_id)
        for row in tr[t.customers.name]:
            out[t.customers.name].append(
                {**row, "id": customer_id, "name": name, "name_key": customer_name_key(name)}
            )
        for row in tr[t.accounts.name]:
            out[t.accounts.name].append(
                {**row, "id": account_id, "customer_id": customer_id, "name": name}
            )
        for row in tr[t.subscribers.name]:
            out[t.subscribers.name].append(
                {**row, "id": subscriber_id, "account_id": account_id, "subscriber_id": number,
                 "card_number": number}
            )  # fmt: skip
        for j, row in enumerate(tr[t.resources.name]):
            out[t.resources.name].append(
                {**row, "id": new_id(t.resources, j), "subscriber_id": subscriber_id,
                 "value": number}
            )  # fmt: skip
        for row in tr[t.wallets.name]:
            out[t.wallets.name].append(
                {**row, "id": wallet_id, "reference": reference, "customer_id": customer_id}
            )
        for row in tr[t.wallet_links.name]:
            out[t.wallet_links.name].append(
                {**row, "subscriber_id": subscriber_id, "wallet_id": wallet_id}
            )
        for row in tr[t.wallet_balances.name]:
            out[t.wallet_balances.name].append({**row, "wallet_id": wallet_id})
        for j, row in enumerate(tr[t.buckets.name]):
            out[t.buckets.name].append({**row, "id": new_id(t.buckets, j), "wallet_id": wallet_id})
        for j, row in enumerate(tr[t.wallet_history.name]):
            detail = row["detail"]
            if detail == reference_of_template:
                detail = reference
            out[t.wallet_history.name].append(
                {**row, "id": new_id(t.wallet_history, j), "wallet_id": wallet_id,
                 "detail": detail}
            )  # fmt: skip
        edr_map: dict[int, int] = {}
        for j, row in enumerate(tr[t.edrs.name]):
            edr_id = new_id(t.edrs, j)
            edr_map[row["id"]] = edr_id
            out[t.edrs.name].append(
                {**row, "id": edr_id, "wallet_id": wallet_id, "subscriber_id": subscriber_id,
                 "detail": _with_reference(row["detail"], reference_of_template, reference)}
            )  # fmt: skip
        for row in tr[t.edr_balances.name]:
            out[t.edr_balances.name].append({**row, "edr_id": edr_map[row["edr_id"]]})
        for row in tr[t.edr_tags.name]:
            out[t.edr_tags.name].append({**row, "edr_id": edr_map[row["edr_id"]]})
    return out


def _with_reference(detail: str, old: str, new: str) -> str:
    data = json.loads(detail)
    if isinstance(data, dict) and data.get("reference") == old:
        data["reference"] = new
        return json.dumps(data, sort_keys=True)
    return detail


def _check_template_shape(template: Template) -> None:
    """The copies rewrite these values; anything else that names the template would leak."""
    tr = template.rows
    for table in (t.customers, t.accounts, t.subscribers, t.wallets):
        if len(tr[table.name]) != 1:
            raise SystemExit(f"expected one {table.name} row for a subscriber")
    if any(r["wallet_id"] != template.wallet_id for r in tr[t.wallet_links.name]):
        raise SystemExit("the template subscriber is linked to another wallet")


def _move_sequences(conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in ID_TABLES:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT max(id) FROM {table.name}))"
            )
        )


def bulk_insert(
    engine: sa.Engine, template: Template, count: int, batch: int, progress: Callable[[int], None]
) -> None:
    with engine.connect() as conn:
        ids = Ids(conn)
    for start in range(1, count, batch):
        indexes = range(start, min(start + batch, count))
        rows = clone_rows(template, indexes, ids)
        with engine.begin() as conn:
            for table in CLONED:
                if rows[table.name]:
                    conn.execute(sa.insert(table), rows[table.name])
        progress(indexes.stop)
    with engine.begin() as conn:
        _move_sequences(conn)


# -- verification ---------------------------------------------------------------------------


def _bench_wallets(engine: sa.Engine) -> Iterator[tuple[str, int]]:
    """(MSISDN, primary wallet id) of every bench subscriber."""
    r, link = t.resources.c, t.wallet_links.c
    query = (
        sa.select(r.value, link.wallet_id)
        .join(t.wallet_links, link.subscriber_id == r.subscriber_id)
        .where(r.resource_type == "MSISDN", link.wallet_type == WalletType.PRIMARY.value)
        .where(r.value.like(MSISDN_PREFIX + "%"))
    )
    with engine.connect() as conn:
        for number, wallet_id in conn.execute(query):
            yield str(number), int(wallet_id)


def count_subscribers(engine: sa.Engine) -> int:
    r = t.resources.c
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            r.resource_type == "MSISDN", r.value.like(MSISDN_PREFIX + "%")
        )
        return int(conn.scalar(query) or 0)


def verify(services: Services, sample: int, seed: int) -> int:
    """Read a sample of wallets through the services; the number of wallets checked."""
    wallets = sorted(_bench_wallets(services.engine))
    chosen = random.Random(seed).sample(wallets, min(sample, len(wallets)))
    chosen.append(wallets[-1])
    for number, wallet_id in chosen:
        view = services.wallets.get_wallet(ADMIN, wallet_id)
        cash = sum(b.total_value for b in view.balances if b.balance_type == CASH)
        checks = services.edrs.reconcile(ADMIN, wallet_id)
        bad = [c for c in checks if not c.consistent]
        if bad:
            raise SystemExit(f"wallet {wallet_id} ({number}): balance != EDR deltas: {bad}")
        with services.store.transaction() as uow:
            sums = uow.edrs.delta_sums(wallet_id)
            resources = uow.casm.find_resource(None, number)
            links = (
                [] if not resources else uow.wallets.links_of_subscriber(resources[0].subscriber_id)
            )
        if sums.get(CASH, 0) != cash:
            raise SystemExit(f"wallet {wallet_id}: cash {cash} but EDR deltas {sums}")
        primary = [x.wallet_id for x in links if x.wallet_type is WalletType.PRIMARY]
        if len(resources) != 1 or primary != [wallet_id]:
            raise SystemExit(f"{number} does not lead to wallet {wallet_id} ({primary})")
    return len(chosen)


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--cash-cents", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000, help="subscribers per transaction")
    parser.add_argument("--verify-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.subscribers < 1:
        parser.error("--subscribers must be at least 1")

    started = time.perf_counter()
    services = build_services(Settings(database_url=args.database_url))
    try:
        if load_catalog(services, ADMIN):
            print("loaded the bench catalogue", flush=True)
        existing = count_subscribers(services.engine)
        if existing >= args.subscribers:
            print(f"{existing} bench subscribers already provisioned; verifying", flush=True)
        elif existing:
            print(
                f"error: the database holds {existing} bench subscribers, fewer than "
                f"{args.subscribers}: start from an empty database",
                file=sys.stderr,
            )
            return 2
        else:
            template = create_template(services, args.cash_cents)
            _check_template_shape(template)
            print(f"subscriber 0 created through the services (wallet {template.wallet_id})")
            load_started = time.perf_counter()

            def progress(done: int) -> None:
                elapsed = time.perf_counter() - load_started
                rate = (done - 1) / elapsed if elapsed else 0.0
                print(f"  {done:>9,} subscribers  {elapsed:7.1f} s  {rate:9,.0f} /s", flush=True)

            bulk_insert(services.engine, template, args.subscribers, args.batch, progress)
            elapsed = time.perf_counter() - load_started
            print(
                f"bulk-inserted {args.subscribers - 1:,} subscribers in {elapsed:.1f} s "
                f"({(args.subscribers - 1) / max(elapsed, 1e-9):,.0f} subscribers/s)"
            )
        checked = verify(services, args.verify_sample, args.seed)
        print(f"verified {checked} wallets through the services: cash balance == EDR deltas")
        print(f"done in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        services.engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
