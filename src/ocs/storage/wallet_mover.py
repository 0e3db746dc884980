"""Moving one wallet, with everything it holds, from one charging domain to another.

A move is journaled in the main database before anything is copied (`wallet_moves`), and the
databases commit in an order that leaves at most a stale copy behind a crash: the target copy
first, then the directory, then the removal from the source. `finish_interrupted` removes
whatever copy a crash left, so a wallet is never lost and never held twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from ocs.core.domains import DEFAULT_DOMAIN, DomainSummary, MoveOutcome, WalletMove
from ocs.storage import domain_tables as d
from ocs.storage import offer_tables as o
from ocs.storage import tables as t
from ocs.storage.charging_tables import reservation_holds, reservations
from ocs.storage.domains import Domain, DomainRegistry, home_of

COPYING = "COPYING"
COPIED = "COPIED"
OPEN = "OPEN"


@dataclass
class _WalletRows:
    wallet: dict[str, Any]
    balances: list[dict[str, Any]]
    buckets: list[dict[str, Any]]
    history: list[dict[str, Any]]
    reservations: list[dict[str, Any]]
    holds: list[dict[str, Any]]
    edrs: list[dict[str, Any]]
    edr_balances: list[dict[str, Any]]
    edr_tags: list[dict[str, Any]]
    bucket_ids: dict[int, int] = field(default_factory=dict)


class SqlWalletMover:
    def __init__(self, registry: DomainRegistry, now: Callable[[], datetime]) -> None:
        self.registry = registry
        self.now = now

    def close(self) -> None:
        self.registry.dispose()

    # -- the directory ---------------------------------------------------------------------

    def domain_of(self, wallet_id: int) -> str | None:
        with self.registry.main.engine.connect() as conn:
            if conn.scalar(select(t.wallets.c.id).where(t.wallets.c.id == wallet_id)) is None:
                return None
            return home_of(conn, wallet_id)

    def summary(self, name: str) -> DomainSummary:
        """Wallets per state and subscribers (linked to those wallets) per product type."""
        domain = self.registry.get(name)
        w = t.wallets.c
        held = select(d.wallet_domains.c.wallet_id)
        # The main database keeps a directory row for every wallet: count only its own.
        in_domain = (
            w.id.not_in(held)
            if name == DEFAULT_DOMAIN
            else w.id.in_(held.where(d.wallet_domains.c.domain == name))
        )
        by_state = select(w.state, func.count()).group_by(w.state)
        if name == DEFAULT_DOMAIN:
            by_state = by_state.where(in_domain)
        with domain.engine.connect() as conn:
            states = {str(k): int(v) for k, v in conn.execute(by_state).all()}
        links = t.wallet_links.c
        by_product_type = (
            select(w.product_type, func.count(func.distinct(links.subscriber_id)))
            .select_from(t.wallet_links.join(t.wallets, w.id == links.wallet_id))
            .where(in_domain)
            .group_by(w.product_type)
        )
        with self.registry.main.engine.connect() as conn:
            product_types = {str(k): int(v) for k, v in conn.execute(by_product_type).all()}
        return DomainSummary(
            name, dict(sorted(states.items())), dict(sorted(product_types.items()))
        )

    # -- moving ----------------------------------------------------------------------------

    def move(self, wallet_id: int, source: str, target: str) -> WalletMove:
        src, dst = self.registry.get(source), self.registry.get(target)
        if src.name == dst.name:
            raise ValueError("the source and target domains are the same")
        self.finish_interrupted(wallet_id)
        main = self.registry.main.engine
        with main.begin() as conn:
            exists = conn.scalar(select(t.wallets.c.id).where(t.wallets.c.id == wallet_id))
            if exists is None or home_of(conn, wallet_id) != source:
                return WalletMove(wallet_id, source, target, MoveOutcome.NOT_IN_SOURCE,
                                  "Doesn't exist in source domain")  # fmt: skip
            conn.execute(insert(d.wallet_moves).values(
                wallet_id=wallet_id, source=source, target=target, state=COPYING,
                started_at=self.now()))  # fmt: skip
        outcome = self._move(wallet_id, src, dst)
        if outcome.outcome is not MoveOutcome.MOVED:
            self.finish_interrupted(wallet_id)
        return outcome

    def _move(self, wallet_id: int, src: Domain, dst: Domain) -> WalletMove:
        def result(outcome: MoveOutcome, detail: str = "") -> WalletMove:
            return WalletMove(wallet_id, src.name, dst.name, outcome, detail)

        with self._connections(src, dst) as conns:
            main, source, target = conns[DEFAULT_DOMAIN], conns[src.name], conns[dst.name]
            rows = _read(source, wallet_id)
            if rows is None:
                return result(MoveOutcome.NOT_IN_SOURCE, "Doesn't exist in source domain")
            if any(r["state"] == OPEN for r in rows.reservations):
                return result(MoveOutcome.OPEN_RESERVATIONS, "Open reservations")
            _remove(target, wallet_id, keep_wallet_row=dst.name == DEFAULT_DOMAIN)
            _write(target, rows, wallet_row_exists=dst.name == DEFAULT_DOMAIN)
            _point(main, wallet_id, dst.name, rows.bucket_ids)
            if src.name == DEFAULT_DOMAIN:
                _remove(source, wallet_id, keep_wallet_row=True)
                _end_journal(main, wallet_id)
            else:
                main.execute(update(d.wallet_moves).where(
                    d.wallet_moves.c.wallet_id == wallet_id).values(state=COPIED))  # fmt: skip
            conns.commit_in_order(dst.name, DEFAULT_DOMAIN)
            if src.name != DEFAULT_DOMAIN:
                try:
                    _remove(source, wallet_id, keep_wallet_row=False)
                    conns.commit_in_order(src.name)
                except Exception as exc:
                    return result(MoveOutcome.SOURCE_NOT_DELETED, str(exc)[:200])
        if src.name != DEFAULT_DOMAIN:
            with self.registry.main.engine.begin() as conn:
                _end_journal(conn, wallet_id)
        return result(MoveOutcome.MOVED)

    def finish_interrupted(self, wallet_id: int | None = None) -> list[WalletMove]:
        """Complete or undo moves a crash cut short: remove the copy the directory does not
        name, then the journal entry."""
        m = d.wallet_moves.c
        with self.registry.main.engine.connect() as conn:
            query = select(m.wallet_id, m.source, m.target, m.state)
            if wallet_id is not None:
                query = query.where(m.wallet_id == wallet_id)
            pending = conn.execute(query.order_by(m.wallet_id)).all()
        finished = []
        for row in pending:
            stale = self.registry.get(row.target if row.state == COPYING else row.source)
            with stale.engine.begin() as conn:
                _remove(conn, row.wallet_id, keep_wallet_row=stale.name == DEFAULT_DOMAIN)
            with self.registry.main.engine.begin() as conn:
                _end_journal(conn, row.wallet_id)
            outcome = MoveOutcome.MOVED if row.state == COPIED else MoveOutcome.NOT_MOVED
            finished.append(WalletMove(row.wallet_id, row.source, row.target, outcome,
                                       f"interrupted move finished ({row.state})"))  # fmt: skip
        return finished

    @contextmanager
    def _connections(self, src: Domain, dst: Domain) -> Iterator[_Connections]:
        with ExitStack() as stack:
            conns = _Connections(stack)
            # Main first, then the others by number: the lock order every unit of work uses.
            involved = {src.name: src, dst.name: dst, DEFAULT_DOMAIN: self.registry.main}
            for domain in sorted(involved.values(), key=lambda x: x.number):
                conns.open(domain)
            yield conns


class _Connections:
    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._conns: dict[str, Connection] = {}
        self._transactions: dict[str, Any] = {}

    def open(self, domain: Domain) -> None:
        conn = self._stack.enter_context(domain.engine.connect())
        self._transactions[domain.name] = conn.begin()
        self._conns[domain.name] = conn

    def __getitem__(self, name: str) -> Connection:
        return self._conns[name]

    def commit_in_order(self, *names: str) -> None:
        for name in dict.fromkeys(names):
            transaction = self._transactions[name]
            if transaction.is_active:
                transaction.commit()


# Statements built once: a move runs about forty of them, and building a statement costs
# more than running it.
_W: Any = bindparam("w")
_EDR_IDS = select(t.edrs.c.id).where(t.edrs.c.wallet_id == _W)
_RESERVATION_IDS = select(reservations.c.id).where(reservations.c.wallet_id == _W)
_LOCK = select(t.wallets).where(t.wallets.c.id == _W)
_LOCK_FOR_UPDATE = _LOCK.with_for_update()
_READS = {
    "balances": select(t.wallet_balances).where(t.wallet_balances.c.wallet_id == _W),
    "buckets": select(t.buckets).where(t.buckets.c.wallet_id == _W).order_by(t.buckets.c.id),
    "history": select(t.wallet_history).where(t.wallet_history.c.wallet_id == _W)
    .order_by(t.wallet_history.c.id),
    "reservations": select(reservations).where(reservations.c.wallet_id == _W)
    .order_by(reservations.c.id),
    "holds": select(reservation_holds).where(reservation_holds.c.reservation_id.in_(
        _RESERVATION_IDS)),
    "edrs": select(t.edrs).where(t.edrs.c.wallet_id == _W).order_by(t.edrs.c.id),
    "edr_balances": select(t.edr_balances).where(t.edr_balances.c.edr_id.in_(_EDR_IDS)),
    "edr_tags": select(t.edr_tags).where(t.edr_tags.c.edr_id.in_(_EDR_IDS)),
}  # fmt: skip
_DELETES = (
    delete(t.edr_tags).where(t.edr_tags.c.edr_id.in_(_EDR_IDS)),
    delete(t.edr_balances).where(t.edr_balances.c.edr_id.in_(_EDR_IDS)),
    # Reversals first: they reference the EDRs they reverse.
    delete(t.edrs).where(and_(t.edrs.c.wallet_id == _W, t.edrs.c.reverses_edr_id.is_not(None))),
    delete(t.edrs).where(t.edrs.c.wallet_id == _W),
    delete(reservation_holds).where(reservation_holds.c.reservation_id.in_(_RESERVATION_IDS)),
    *(
        delete(table).where(table.c.wallet_id == _W)
        for table in (reservations, t.wallet_history, t.buckets, t.wallet_balances)
    ),
)
_DELETE_WALLET = delete(t.wallets).where(t.wallets.c.id == _W)
_UPDATE_WALLET = update(t.wallets).where(t.wallets.c.id == _W)
_INSERT_RETURNING_ID = {
    table.name: insert(table).returning(table.c.id) for table in (t.buckets, reservations, t.edrs)
}
_GRANT_BUCKETS = [
    update(table)
    .where(and_(table.c.wallet_id == _W, table.c.bucket_id == bindparam("old")))
    .values(bucket_id=bindparam("new"))
    for table in (o.balance_grants, o.grant_rollovers)
]
_DELETE_DIRECTORY = delete(d.wallet_domains).where(d.wallet_domains.c.wallet_id == _W)


def _read(conn: Connection, wallet_id: int) -> _WalletRows | None:
    lock = _LOCK_FOR_UPDATE if conn.dialect.name == "postgresql" else _LOCK
    wallet = conn.execute(lock, {"w": wallet_id}).first()
    if wallet is None:
        return None
    found = {
        name: [dict(r._mapping) for r in conn.execute(query, {"w": wallet_id})]
        for name, query in _READS.items()
    }
    return _WalletRows(
        wallet=dict(wallet._mapping),
        balances=found["balances"],
        buckets=found["buckets"],
        history=found["history"],
        reservations=found["reservations"],
        holds=found["holds"],
        edrs=found["edrs"],
        edr_balances=found["edr_balances"],
        edr_tags=found["edr_tags"],
    )


def _write(conn: Connection, rows: _WalletRows, wallet_row_exists: bool) -> None:
    """Insert the wallet's rows; buckets, reservations and EDRs get the target's ids."""
    wallet_id = rows.wallet["id"]
    if wallet_row_exists:
        values = {k: v for k, v in rows.wallet.items() if k not in ("id", "revision")}
        conn.execute(_UPDATE_WALLET.values(**values), {"w": wallet_id})
    else:
        conn.execute(insert(t.wallets), {k: v for k, v in rows.wallet.items() if k != "revision"})
    _insert_all(conn, t.wallet_balances, rows.balances)
    for bucket in rows.buckets:
        rows.bucket_ids[bucket["id"]] = _insert_new_id(conn, t.buckets, bucket)
    _insert_all(conn, t.wallet_history, [_without_id(entry) for entry in rows.history])
    reservation_ids = {r["id"]: _insert_new_id(conn, reservations, r) for r in rows.reservations}
    _insert_all(conn, reservation_holds, [
        {**hold, "reservation_id": reservation_ids[hold["reservation_id"]]}
        for hold in rows.holds])  # fmt: skip
    edr_ids: dict[int, int] = {}
    for edr in rows.edrs:
        reverses = edr["reverses_edr_id"]
        edr_ids[edr["id"]] = _insert_new_id(
            conn, t.edrs, {**edr, "reverses_edr_id": edr_ids.get(reverses, reverses)}
        )
    _insert_all(
        conn,
        t.edr_balances,
        [{**line, "edr_id": edr_ids[line["edr_id"]]} for line in rows.edr_balances],
    )
    _insert_all(conn, t.edr_tags,
                [{**tag, "edr_id": edr_ids[tag["edr_id"]]} for tag in rows.edr_tags])  # fmt: skip


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


def _insert_all(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def _insert_new_id(conn: Connection, table: Any, row: dict[str, Any]) -> int:
    return int(conn.execute(_INSERT_RETURNING_ID[table.name], _without_id(row)).scalar_one())


def _remove(conn: Connection, wallet_id: int, keep_wallet_row: bool) -> None:
    """Delete the wallet's rows from one database (the directory row in main stays)."""
    for statement in _DELETES:
        conn.execute(statement, {"w": wallet_id})
    if not keep_wallet_row:
        conn.execute(_DELETE_WALLET, {"w": wallet_id})


def _point(main: Connection, wallet_id: int, target: str, bucket_ids: dict[int, int]) -> None:
    """The directory names the target; grants follow their buckets' new ids."""
    main.execute(_DELETE_DIRECTORY, {"w": wallet_id})
    if target != DEFAULT_DOMAIN:
        main.execute(insert(d.wallet_domains), {"wallet_id": wallet_id, "domain": target})
    if bucket_ids:
        moved = [{"w": wallet_id, "old": old, "new": new} for old, new in bucket_ids.items()]
        for statement in _GRANT_BUCKETS:
            main.execute(statement, moved)


def _end_journal(conn: Connection, wallet_id: int) -> None:
    conn.execute(delete(d.wallet_moves).where(d.wallet_moves.c.wallet_id == wallet_id))
