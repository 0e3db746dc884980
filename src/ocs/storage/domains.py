"""Charging domains: several databases holding wallets, one unit of work across them.

The default domain is the main database: it holds everything (configuration, customers,
subscribers, wallet links, charging sessions, answers) and, for every wallet, a wallets row. A
wallet of another domain has its balances, buckets, reservations, history and EDRs there, next
to the authoritative copy of its wallets row; the main row then stays as the directory entry
(kept in step on every change, so searches and links keep working) and `wallet_domains` says
where the wallet lives. Locks are always taken main first, then the other domains by number,
so two units of work can never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from ocs.core.domains import DEFAULT_DOMAIN, ID_SPACE, domain_number_of
from ocs.core.edr import Edr, EdrQuery, EdrSort
from ocs.core.errors import DomainError, ProblemKind
from ocs.storage import domain_tables as d
from ocs.storage import tables as t
from ocs.storage.charging_repository import SqlChargingRepository
from ocs.storage.charging_tables import reservations
from ocs.storage.engine import begin_reading, driver_of, make_engine, migrate
from ocs.storage.repositories import SqlConfigRepository, SqlUnitOfWork
from ocs.storage.wallet_repository import SqlEdrRepository, SqlWalletRepository

# Tables whose ids name a row across domains (REST paths, reversals, reservations).
RANGED_TABLES = (t.buckets, reservations, t.edrs)


@dataclass(frozen=True)
class Domain:
    name: str
    number: int
    engine: Engine


class DomainRegistry:
    """The configured domains, opened, migrated and numbered."""

    def __init__(self, main: Engine, urls: Sequence[tuple[str, str]], now: datetime) -> None:
        self.main = Domain(DEFAULT_DOMAIN, 0, main)
        numbers = _assign_numbers(main, [name for name, _ in urls], now)
        _refuse_missing_domains(main, {DEFAULT_DOMAIN, *(name for name, _ in urls)})
        self.others = [
            Domain(name, numbers[name], _open_domain(name, url, numbers[name], main))
            for name, url in urls
        ]
        self.others.sort(key=lambda domain: domain.number)
        self.by_name = {domain.name: domain for domain in (self.main, *self.others)}
        self.by_number = {domain.number: domain for domain in (self.main, *self.others)}

    @property
    def names(self) -> list[str]:
        return [self.main.name, *(domain.name for domain in self.others)]

    def get(self, name: str) -> Domain:
        domain = self.by_name.get(name)
        if domain is None:
            raise DomainError(
                ProblemKind.INVALID_VALUE,
                f"charging domain {name!r} is not configured (configured: {', '.join(self.names)})",
                "domain",
            )
        return domain

    def of_row(self, row_id: int) -> Domain:
        """The domain that created a bucket, reservation or EDR with this id."""
        return self.by_number.get(domain_number_of(row_id), self.main)

    def sync_configuration(self) -> None:
        """Copy every configuration record from the main database to each domain (the
        domains' wallets and buckets reference them)."""
        with self.main.engine.connect() as source:
            rows = {
                table.name: [dict(r._mapping) for r in source.execute(select(table))]
                for table in _config_tables_in_order()
            }
        for domain in self.others:
            with domain.engine.begin() as conn:
                for table in _config_tables_in_order():
                    for row in rows[table.name]:
                        _upsert(conn, table, row)

    def dispose(self) -> None:
        for domain in self.others:
            domain.engine.dispose()


def _config_tables_in_order() -> list[Any]:
    config_names = {table.name for table in t.config_tables.values()}
    return [table for table in t.metadata.sorted_tables if table.name in config_names]


def _upsert(conn: Connection, table: Any, row: dict[str, Any]) -> None:
    key = table.c.code if "code" in table.c else table.c.id
    values = {k: v for k, v in row.items() if k != key.name}
    if conn.execute(update(table).where(key == row[key.name]).values(**values)).rowcount == 0:
        conn.execute(insert(table).values(**row))


def _assign_numbers(main: Engine, names: list[str], now: datetime) -> dict[str, int]:
    c = d.charging_domains.c
    with main.begin() as conn:
        known = {r.name: r.number for r in conn.execute(select(c.name, c.number))}
        if DEFAULT_DOMAIN not in known:
            conn.execute(insert(d.charging_domains).values(name=DEFAULT_DOMAIN, number=0,
                                                           created_at=now))  # fmt: skip
            known[DEFAULT_DOMAIN] = 0
        for name in names:
            if name not in known:
                known[name] = max(known.values()) + 1
                conn.execute(insert(d.charging_domains).values(name=name, number=known[name],
                                                               created_at=now))  # fmt: skip
    return known


def _refuse_missing_domains(main: Engine, configured: set[str]) -> None:
    """Wallets live in a domain that is no longer configured: refuse to start, not lose them."""
    c = d.wallet_domains.c
    with main.connect() as conn:
        held = set(conn.scalars(select(c.domain).distinct()))
    missing = sorted(held - configured)
    if missing:
        raise ValueError(
            f"wallets are held in charging domains {', '.join(missing)}, which "
            "OCS_CHARGING_DOMAINS no longer names; configure them again (or move their "
            "wallets first)"
        )


def _open_domain(name: str, url: str, number: int, main: Engine) -> Engine:
    engine = make_engine(url)
    if engine.url == main.url:
        raise ValueError(f"charging domain {name!r} names the main database")
    migrate(engine)
    with engine.begin() as conn:
        claimed = conn.scalar(select(t.settings.c.value).where(t.settings.c.key == "domain"))
        if claimed is None:
            conn.execute(insert(t.settings).values(key="domain", value=name))
        elif claimed != name:
            raise ValueError(
                f"the database of charging domain {name!r} belongs to domain {claimed!r}"
            )
    _start_id_ranges(engine, number)
    return engine


def _start_id_ranges(engine: Engine, number: int) -> None:
    """Make the domain's buckets, reservations and EDRs take ids from its own range."""
    base = number * ID_SPACE
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in RANGED_TABLES:
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                        "GREATEST(:base, (SELECT coalesce(max(id), 0) FROM "
                        f"{table.name})))"
                    ),
                    {"table": table.name, "base": base},
                )
        return
    # SQLite gives a new row the largest id plus one, so a row at the start of the range stays
    # there for good. It references no wallet (wallet 0 never exists): no query ever finds it.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("BEGIN IMMEDIATE")
        for name, values in _range_markers(base).items():
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {name}")
            (top,) = cursor.fetchone() or (0,)
            if int(top) < base:
                columns = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                cursor.execute(f"INSERT INTO {name} ({columns}) VALUES ({marks})",
                               tuple(values.values()))  # fmt: skip
        cursor.execute("COMMIT")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


def _range_markers(base: int) -> dict[str, dict[str, object]]:
    epoch = "1970-01-01 00:00:00.000000"
    return {
        "buckets": {"id": base, "wallet_id": 0, "balance_type": "-", "value": 0},
        "reservations": {"id": base, "session_id": "-", "wallet_id": 0, "charging_class": "-",
                         "unit": "-", "granted_units": 0, "used_units": 0, "state": "RANGE",
                         "created_at": epoch, "expires_at": epoch},
        "edrs": {"id": base, "type": "RANGE", "at": epoch, "wallet_id": 0, "partial": 0,
                 "detail": "{}"},
    }  # fmt: skip


def home_of(main: Connection, wallet_id: int) -> str:
    """The domain the directory names for a wallet: the default one when it names none."""
    c = d.wallet_domains.c
    return main.scalar(select(c.domain).where(c.wallet_id == wallet_id)) or DEFAULT_DOMAIN


class DomainConnections:
    """The connections of one unit of work: main at once, the others when first needed."""

    def __init__(
        self,
        registry: DomainRegistry,
        main: Connection,
        stack: ExitStack,
        begin: Callable[[Engine], AbstractContextManager[Connection]] = Engine.begin,
    ) -> None:
        self.registry = registry
        self.main = main
        self._stack = stack
        self._begin = begin  # how a domain's transaction starts: writing, or begin_reading
        self._open: dict[str, Connection] = {DEFAULT_DOMAIN: main}
        self._homes: dict[int, str] = {}
        self._repos: dict[tuple[str, type], Any] = {}
        self._savepoint_open = False
        self._in_savepoint: list[Connection] = []

    def conn(self, name: str) -> Connection:
        if name not in self._open:
            # Open every other domain up to this one, by number: a fixed lock order.
            for domain in self.registry.others:
                if domain.name not in self._open:
                    conn = self._stack.enter_context(self._begin(domain.engine))
                    self._open[domain.name] = conn
                    if self._savepoint_open:
                        driver_of(conn).execute("SAVEPOINT request")
                        self._in_savepoint.append(conn)
                if domain.name == name:
                    break
        return self._open[name]

    def repo(self, name: str, kind: type) -> Any:
        key = (name, kind)
        if key not in self._repos:
            self._repos[key] = kind(self.conn(name))
        return self._repos[key]

    def home(self, wallet_id: int) -> str:
        """The domain holding a wallet (the default one for a wallet that does not exist)."""
        home = self._homes.get(wallet_id)
        if home is None:
            home = self._homes[wallet_id] = home_of(self.main, wallet_id)
        return home

    def forget(self, wallet_id: int) -> None:
        self._homes.pop(wallet_id, None)

    def of_row(self, row_id: int) -> str:
        return self.registry.of_row(row_id).name

    def all_names(self) -> list[str]:
        return self.registry.names

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._in_savepoint = list(self._open.values())
        for conn in self._in_savepoint:
            driver_of(conn).execute("SAVEPOINT request")
        self._savepoint_open = True
        try:
            yield
        except BaseException:
            for conn in self._in_savepoint:
                driver_of(conn).execute("ROLLBACK TO SAVEPOINT request")
                driver_of(conn).execute("RELEASE SAVEPOINT request")
            raise
        else:
            for conn in self._in_savepoint:
                driver_of(conn).execute("RELEASE SAVEPOINT request")
        finally:
            self._savepoint_open = False
            self._in_savepoint = []


class RoutedWalletRepository:
    """Wallets, balances, buckets and history, each in the domain holding the wallet."""

    def __init__(self, conns: DomainConnections) -> None:
        self.c = conns
        self.main = SqlWalletRepository(conns.main)

    def _at(self, wallet_id: int) -> SqlWalletRepository:
        return self.c.repo(self.c.home(wallet_id), SqlWalletRepository)  # type: ignore[no-any-return]

    def _remote(self, wallet_id: int) -> SqlWalletRepository | None:
        home = self.c.home(wallet_id)
        return None if home == DEFAULT_DOMAIN else self.c.repo(home, SqlWalletRepository)

    def insert_wallet(self, wallet: Any) -> int:
        return self.main.insert_wallet(wallet)

    def set_reference(self, wallet_id: int, reference: str) -> None:
        self.main.set_reference(wallet_id, reference)
        if (remote := self._remote(wallet_id)) is not None:
            remote.set_reference(wallet_id, reference)

    def update_wallet(self, wallet: Any) -> None:
        self.main.update_wallet(wallet)
        if (remote := self._remote(wallet.id)) is not None:
            remote.update_wallet(wallet)

    def get_wallet(self, wallet_id: int, for_update: bool = False) -> Any:
        return self._at(wallet_id).get_wallet(wallet_id, for_update)

    def wallet_by_reference(self, reference: str) -> Any:
        stub = self.main.wallet_by_reference(reference)
        if stub is None or self.c.home(stub.id) == DEFAULT_DOMAIN:
            return stub
        return self._at(stub.id).get_wallet(stub.id)

    def delete_wallet(self, wallet_id: int) -> None:
        if (remote := self._remote(wallet_id)) is not None:
            remote.delete_wallet(wallet_id)
            c = d.wallet_domains.c
            self.c.main.execute(delete(d.wallet_domains).where(c.wallet_id == wallet_id))
            self.c.forget(wallet_id)
        self.main.delete_wallet(wallet_id)

    def insert_link(self, link: Any, at: datetime) -> None:
        self.main.insert_link(link, at)

    def delete_link(self, subscriber_id: int, wallet_type: Any) -> None:
        self.main.delete_link(subscriber_id, wallet_type)

    def links_of_subscriber(self, subscriber_id: int) -> Any:
        return self.main.links_of_subscriber(subscriber_id)

    def links_of_wallet(self, wallet_id: int) -> Any:
        return self.main.links_of_wallet(wallet_id)

    def insert_balance(self, balance: Any) -> None:
        self._at(balance.wallet_id).insert_balance(balance)

    def update_balance(self, balance: Any) -> None:
        self._at(balance.wallet_id).update_balance(balance)

    def list_balances(self, wallet_id: int) -> Any:
        return self._at(wallet_id).list_balances(wallet_id)

    def list_buckets(self, wallet_id: int) -> Any:
        return self._at(wallet_id).list_buckets(wallet_id)

    def bucket_wallet_id(self, bucket_id: int) -> int | None:
        return self.c.repo(self.c.of_row(bucket_id), SqlWalletRepository).bucket_wallet_id(  # type: ignore[no-any-return]
            bucket_id
        )

    def insert_bucket(self, wallet_id: int, bucket: Any) -> int:
        return self._at(wallet_id).insert_bucket(wallet_id, bucket)

    def update_bucket(self, bucket: Any) -> None:
        self.c.repo(self.c.of_row(bucket.id), SqlWalletRepository).update_bucket(bucket)

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        self.c.repo(self.c.of_row(bucket_id), SqlWalletRepository).set_bucket_value(
            bucket_id, value
        )

    def delete_bucket(self, bucket_id: int) -> None:
        self.c.repo(self.c.of_row(bucket_id), SqlWalletRepository).delete_bucket(bucket_id)

    def wallets_with_expired_buckets(self, now: datetime, limit: int) -> list[int]:
        found: list[int] = []
        for name in self.c.all_names():
            repo = self.c.repo(name, SqlWalletRepository)
            found.extend(repo.wallets_with_expired_buckets(now, limit - len(found)))
            if len(found) >= limit:
                break
        return found

    def append_history(self, entry: Any) -> None:
        self._at(entry.wallet_id).append_history(entry)

    def list_history(self, wallet_id: int) -> Any:
        return self._at(wallet_id).list_history(wallet_id)


class RoutedEdrRepository:
    """EDRs live with their wallet; a search covers every domain."""

    def __init__(self, conns: DomainConnections) -> None:
        self.c = conns

    def _in(self, name: str) -> SqlEdrRepository:
        return self.c.repo(name, SqlEdrRepository)  # type: ignore[no-any-return]

    def insert(self, edr: Edr) -> int:
        return self._in(self.c.home(edr.wallet_id)).insert(edr)

    def get(self, edr_id: int) -> Edr | None:
        return self._in(self.c.of_row(edr_id)).get(edr_id)

    def reversal_of(self, edr_id: int) -> int | None:
        return self._in(self.c.of_row(edr_id)).reversal_of(edr_id)

    def search(self, query: EdrQuery, wallet_ids: list[int]) -> tuple[list[Edr], int]:
        names = self.c.all_names()
        if len(names) == 1:
            return self._in(names[0]).search(query, wallet_ids)
        # Each domain's first offset + page rows, merged in the query's order.
        wide = replace(query, offset=0, page_size=query.offset + query.page_size)
        found: list[Edr] = []
        total = 0
        for name in names:
            rows, count = self._in(name).search(wide, wallet_ids)
            found.extend(rows)
            total += count
        found.sort(key=lambda edr: _edr_sort_key(edr, query), reverse=query.descending)
        return found[query.offset : query.offset + query.page_size], min(total, query.result_limit)

    def delta_sums(self, wallet_id: int) -> dict[str, int]:
        return self._in(self.c.home(wallet_id)).delta_sums(wallet_id)


def _edr_sort_key(edr: Edr, query: EdrQuery) -> tuple[Any, ...]:
    if query.sort is EdrSort.TYPE:
        return (edr.type.value, edr.at, edr.id)
    if query.sort is EdrSort.COST:
        cost = sum(-line.delta_value for line in edr.balances
                   if line.unit_class is query.unit_class)  # fmt: skip
        return (cost, edr.at, edr.id)
    if query.sort is EdrSort.DATE:
        return (edr.at, edr.id)
    return (min((line.balance_type for line in edr.balances), default=""), edr.at, edr.id)


class RoutedChargingRepository:
    """Sessions and answers in the main database; the wallet side where the wallet lives."""

    def __init__(self, conns: DomainConnections) -> None:
        self.c = conns
        self.main = SqlChargingRepository(conns.main)

    def _at(self, wallet_id: int) -> SqlChargingRepository:
        return self.c.repo(self.c.home(wallet_id), SqlChargingRepository)  # type: ignore[no-any-return]

    def _of(self, row_id: int) -> SqlChargingRepository:
        return self.c.repo(self.c.of_row(row_id), SqlChargingRepository)  # type: ignore[no-any-return]

    def _each(self) -> list[SqlChargingRepository]:
        return [self.c.repo(name, SqlChargingRepository) for name in self.c.all_names()]

    def get_answer(self, session_id: str, request_number: int) -> str | None:
        return self.main.get_answer(session_id, request_number)

    def put_answer(self, session_id: str, request_number: int, at: datetime, decision: str) -> None:
        self.main.put_answer(session_id, request_number, at, decision)

    def delete_answers_before(self, at: datetime, limit: int) -> int:
        return self.main.delete_answers_before(at, limit)

    def get_session(self, session_id: str) -> Any:
        return self.main.get_session(session_id)

    def insert_session(self, session: Any) -> None:
        self.main.insert_session(session)

    def touch_session(self, session_id: str, state: Any, last_seen_at: datetime,
                      expires_at: datetime) -> None:  # fmt: skip
        self.main.touch_session(session_id, state, last_seen_at, expires_at)

    def see_session(self, session_id: str, last_seen_at: datetime) -> None:
        self.main.see_session(session_id, last_seen_at)

    def count_open_sessions(self, wallet_id: int) -> int:
        return self.main.count_open_sessions(wallet_id)

    def expired_sessions(self, now: datetime, limit: int) -> Any:
        return self.main.expired_sessions(now, limit)

    def insert_reservation(self, reservation: Any, holds: Any) -> int:
        return self._at(reservation.wallet_id).insert_reservation(reservation, holds)

    def get_reservation(self, reservation_id: int) -> Any:
        return self._of(reservation_id).get_reservation(reservation_id)

    def open_reservations_of_session(self, wallet_id: int, session_id: str) -> Any:
        return self._at(wallet_id).open_reservations_of_session(wallet_id, session_id)

    def list_reservations(self, wallet_id: int, limit: int) -> Any:
        return self._at(wallet_id).list_reservations(wallet_id, limit)

    def holds_of(self, reservation_id: int) -> dict[str, int]:
        return self._of(reservation_id).holds_of(reservation_id)

    def holds_of_wallet(self, wallet_id: int) -> dict[str, int]:
        return self._at(wallet_id).holds_of_wallet(wallet_id)

    def end_reservation(self, reservation_id: int, state: Any, used_units: int, at: datetime,
                        ended_by: str) -> bool:  # fmt: skip
        return self._of(reservation_id).end_reservation(
            reservation_id, state, used_units, at, ended_by
        )

    def expired_reservations(self, now: datetime, limit: int) -> Any:
        found = [r for repo in self._each() for r in repo.expired_reservations(now, limit)]
        found.sort(key=lambda r: (r.expires_at, r.id))
        return found[:limit]

    def open_counts(self) -> tuple[int, int]:
        counts = [repo.open_counts() for repo in self._each()]
        return counts[0][0], sum(reserved for _, reserved in counts)

    def resolve_identity(self, value: str) -> tuple[int, int] | None:
        return self.main.resolve_identity(value)

    def grants_of_wallet(self, wallet_id: int) -> Any:
        return self.main.grants_of_wallet(wallet_id)

    def update_grant_usage(self, grant: Any) -> None:
        self.main.update_grant_usage(grant)

    def lock_wallets(self, wallet_ids: Collection[int]) -> None:
        # Main's rows first, then each domain's by number: the unit of work's lock order.
        self.main.lock_wallets(wallet_ids)
        homes = self._by_home(wallet_ids)
        for name in self.c.all_names():
            if name != DEFAULT_DOMAIN and name in homes:
                self.c.repo(name, SqlChargingRepository).lock_wallets(homes[name])

    def _by_home(self, wallet_ids: Collection[int]) -> dict[str, list[int]]:
        homes: dict[str, list[int]] = {}
        for wallet_id in wallet_ids:
            homes.setdefault(self.c.home(wallet_id), []).append(wallet_id)
        return homes

    def wallet_revision(self, wallet_id: int, lock: bool) -> int | None:
        main_revision = self.main.wallet_revision(wallet_id, lock)
        if main_revision is None or self.c.home(wallet_id) == DEFAULT_DOMAIN:
            return main_revision
        # Links and sessions change the main row's revision, balances the domain's: both count.
        revision = self._at(wallet_id).wallet_revision(wallet_id, lock)
        return None if revision is None else hash((main_revision, revision))

    def data_version(self) -> object | None:
        return None  # a revision here combines two databases' (wallet_revision)

    def written_revision(self, wallet_id: int) -> int | None:
        main_revision = self.main.written_revision(wallet_id)
        if main_revision is None or self.c.home(wallet_id) == DEFAULT_DOMAIN:
            return main_revision
        revision = self._at(wallet_id).written_revision(wallet_id)
        return None if revision is None else hash((main_revision, revision))

    def note_wallets_changed(self, wallet_ids: Collection[int]) -> None:
        self.main.note_wallets_changed(wallet_ids)
        for name, ids in self._by_home(wallet_ids).items():
            if name != DEFAULT_DOMAIN:
                self.c.repo(name, SqlChargingRepository).note_wallets_changed(ids)

    def load_wallet(self, wallet_id: int) -> Any:
        return self._at(wallet_id).load_wallet(wallet_id)

    def insert_bucket(self, wallet_id: int, bucket: Any) -> int:
        return self._at(wallet_id).insert_bucket(wallet_id, bucket)

    def update_bucket(self, bucket: Any) -> None:
        self._of(bucket.id).update_bucket(bucket)

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        self._of(bucket_id).set_bucket_value(bucket_id, value)

    def delete_bucket(self, bucket_id: int) -> None:
        self._of(bucket_id).delete_bucket(bucket_id)

    def links_of_wallet(self, wallet_id: int) -> Any:
        return self.main.links_of_wallet(wallet_id)

    def set_wallet_last_used(self, wallet_id: int, at: datetime) -> None:
        self._at(wallet_id).set_wallet_last_used(wallet_id, at)

    def update_wallet(self, wallet: Any) -> None:
        self.main.update_wallet(wallet)
        if self.c.home(wallet.id) != DEFAULT_DOMAIN:
            self._at(wallet.id).update_wallet(wallet)

    def append_history(self, entry: Any) -> None:
        self._at(entry.wallet_id).append_history(entry)

    def activation_credits(self, product_type: str) -> Any:
        return self.main.activation_credits(product_type)

    def insert_edr(self, edr: Edr, subscriber_noted: bool = False) -> int:
        return self._at(edr.wallet_id).insert_edr(edr, subscriber_noted)


class MirroredConfigRepository(SqlConfigRepository):
    """Reads from the main database; every write is made in every domain as well."""

    def __init__(self, conns: DomainConnections) -> None:
        super().__init__(conns.main)
        self.c = conns

    def _everywhere(self) -> list[SqlConfigRepository]:
        return [self.c.repo(name, SqlConfigRepository) for name in self.c.all_names()]

    def insert(self, kind: Any, record: Any) -> None:
        for repo in self._everywhere():
            SqlConfigRepository.insert(repo, kind, record)

    def update(self, kind: Any, record: Any) -> None:
        for repo in self._everywhere():
            SqlConfigRepository.update(repo, kind, record)

    def delete(self, kind: Any, code: str) -> None:
        for repo in self._everywhere():
            SqlConfigRepository.delete(repo, kind, code)


class RoutedUnitOfWork(SqlUnitOfWork):
    def __init__(self, conns: DomainConnections) -> None:
        super().__init__(conns.main)
        self.conns = conns
        self.config = MirroredConfigRepository(conns)
        self.wallets = RoutedWalletRepository(conns)
        self.edrs = RoutedEdrRepository(conns)
        self.charging = RoutedChargingRepository(conns)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.conns.savepoint():
            yield

    def pipeline(self) -> AbstractContextManager[None]:
        # Statements go to several connections, each its own round trips; kept simple.
        return nullcontext()


class DomainStore:
    """The Store port over several domains: one unit of work spans the domains it touches;
    the other domains commit before the main database."""

    def __init__(self, registry: DomainRegistry) -> None:
        self.registry = registry
        self.engine = registry.main.engine

    @contextmanager
    def transaction(self) -> Iterator[RoutedUnitOfWork]:
        try:
            with ExitStack() as stack:
                main = stack.enter_context(self.engine.begin())
                # Entered after main, so they commit before it: a crash in between leaves
                # wallet data without its answer, never an answer without its data.
                yield RoutedUnitOfWork(DomainConnections(self.registry, main, stack))
        except IntegrityError as exc:
            raise DomainError(
                ProblemKind.CONFLICT, f"the change conflicts with existing data: {exc.orig}"
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[RoutedUnitOfWork]:
        with ExitStack() as stack:
            main = stack.enter_context(begin_reading(self.engine))
            yield RoutedUnitOfWork(DomainConnections(self.registry, main, stack, begin_reading))
