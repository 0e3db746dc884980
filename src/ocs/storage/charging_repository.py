"""The charging engine's storage: sessions, reservations and holds, replayable answers, and the
few wallet reads and writes a charging request needs.

This is the hot path of every credit-control request, so it talks to the database driver
directly with fixed SQL (see docs/adr/0003-charging-hot-path.md): a statement here costs a few
microseconds on SQLite, where building the same statement through SQLAlchemy Core costs
about a hundred. It shares the unit of work's connection and transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from ocs.core.edr import Edr
from ocs.core.grant_usage import GrantUsage
from ocs.core.offers import format_pct, parse_pct
from ocs.core.reservations import ChargingSession, Reservation, ReservationState, SessionState
from ocs.core.wallets import (
    ActivationCredit,
    Bucket,
    LimitType,
    Wallet,
    WalletBalance,
    WalletHistoryEntry,
    WalletLink,
    WalletState,
    WalletType,
)
from ocs.storage.charging_tables import OPEN_STATE_SQL
from ocs.storage.engine import driver_of
from ocs.storage.json_text import detail_text
from ocs.storage.sqlite_triggers import TRIGGERS_OFF

SESSION_COLUMNS = (
    "session_id, wallet_id, subscriber_id, state, opened_at, last_seen_at, expires_at, "
    "calling_party, called_party"
)
RESERVATION_COLUMNS = (
    "id, session_id, wallet_id, rating_group, service_identifier, charging_class, unit, "
    "granted_units, used_units, state, created_at, expires_at, ended_at, ended_by"
)
WALLET_COLUMNS = (
    "id, reference, service_provider, product_type, currency, display_currency, customer_id, "
    "limit_type, minimum_credit, max_concurrent_accesses, state, expires_at, created_at, "
    "activated_at, last_used_at, state_changed_at"
)


# Formatted times a repository keeps: a transaction writes a few distinct ones per request.
TIMES_KEPT_MAX = 64


@functools.lru_cache(maxsize=256)
def _psycopg_sql(sql: str) -> str:
    return sql.replace("?", "%s")


# A value kept in each pooled connection's info for as long as the connection lives.
CONNECTION_TOKEN = "ocs_connection_token"


class SqlChargingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        self._raw: Any = None
        # The engine's SQLite connections fire no triggers: this repository does their work.
        self._triggers_off = bool(conn.info.get(TRIGGERS_OFF))
        # Times already formatted: a request writes its `now` and expiry into several rows.
        self._times: dict[datetime, Any] = {}

    # -- driver access -----------------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Execute on the unit of work's own driver connection (same transaction)."""
        if not self._sqlite:
            sql = _psycopg_sql(sql)
        return self._run_on_driver().execute(sql, tuple(params))

    def _run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self._sqlite:
            self._run_on_driver().executemany(sql, rows)
            return
        with self._run_on_driver().cursor() as cursor:
            cursor.executemany(_psycopg_sql(sql), rows)

    def _run_on_driver(self) -> Any:
        raw = self._raw
        if raw is None:
            raw = self._raw = driver_of(self._conn)
        return raw

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._run(sql, params).fetchall())

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self._run(sql, params).fetchone()
        return None if row is None else tuple(row)

    def _time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        known = self._times.get(value)
        if known is not None:
            return known
        if len(self._times) >= TIMES_KEPT_MAX:
            self._times.clear()
        if self._sqlite and value.tzinfo is UTC:
            # The text SQLAlchemy stores DateTime as on SQLite ("%Y-%m-%d %H:%M:%S.%f"):
            # isoformat less its "+00:00", at a fraction of strftime's (or a conversion's) cost.
            known = value.isoformat(" ", "microseconds")[:26]
        else:
            utc = value.astimezone(UTC).replace(tzinfo=None)
            known = utc.isoformat(" ", "microseconds") if self._sqlite else utc
        # Keyed by the instant: equal datetimes in other zones are the same UTC value.
        self._times[value] = known
        return known

    def _read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(parsed, datetime)
        return parsed.replace(tzinfo=UTC)

    def _required_time(self, value: Any) -> datetime:
        parsed = self._read_time(value)
        if parsed is None:
            raise ValueError("a NOT NULL time column held NULL")
        return parsed

    def _insert_returning_id(self, sql: str, params: Sequence[Any]) -> int:
        row = self._one(sql + " RETURNING id", params)
        assert row is not None
        return int(row[0])

    # -- answers -----------------------------------------------------------------------------

    def get_answer(self, session_id: str, request_number: int) -> str | None:
        row = self._one(
            "SELECT decision FROM charging_answers WHERE session_id = ? AND request_number = ?",
            (session_id, request_number),
        )
        return None if row is None else str(row[0])

    def put_answer(self, session_id: str, request_number: int, at: datetime, decision: str) -> None:
        self._run(
            "INSERT INTO charging_answers (session_id, request_number, at, decision) "
            "VALUES (?, ?, ?, ?)",
            (session_id, request_number, self._time(at), decision),
        )

    def delete_answers_before(self, at: datetime, limit: int) -> int:
        if not self._sqlite:
            cursor = self._run(
                "DELETE FROM charging_answers WHERE (session_id, request_number) IN ("
                "SELECT session_id, request_number FROM charging_answers WHERE at < ? "
                "ORDER BY at LIMIT ?)",
                (self._time(at), limit),
            )
            return int(cursor.rowcount)
        # No index on `at` here (migration 0021): answers are appended in time order, so the
        # old ones are the first rowids. Everything before the first answer young enough to
        # keep goes (up to `limit` rowids); an answer written under a clock set back stays
        # longer, never less.
        cursor = self._run(
            "DELETE FROM charging_answers WHERE rowid < min(coalesce("
            "(SELECT rowid FROM charging_answers WHERE at >= ? ORDER BY rowid LIMIT 1), "
            "(SELECT max(rowid) + 1 FROM charging_answers)), "
            "(SELECT min(rowid) FROM charging_answers) + ?)",
            (self._time(at), limit),
        )
        return int(cursor.rowcount)

    # -- sessions ----------------------------------------------------------------------------

    def _session(self, row: tuple[Any, ...]) -> ChargingSession:
        opened, seen, expires = (self._required_time(v) for v in row[4:7])
        return ChargingSession(
            row[0], row[1], row[2], SessionState(row[3]), opened, seen, expires, row[7], row[8]
        )

    def get_session(self, session_id: str) -> ChargingSession | None:
        row = self._one(
            f"SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE session_id = ?", (session_id,)
        )
        return None if row is None else self._session(row)

    def insert_session(self, session: ChargingSession) -> None:
        self._run(
            f"INSERT INTO charging_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.session_id,
                session.wallet_id,
                session.subscriber_id,
                session.state.value,
                self._time(session.opened_at),
                self._time(session.last_seen_at),
                self._time(session.expires_at),
                session.calling_party,
                session.called_party,
            ),
        )

    def touch_session(
        self, session_id: str, state: SessionState, last_seen_at: datetime, expires_at: datetime
    ) -> None:
        self._run(
            "UPDATE charging_sessions SET state = ?, last_seen_at = ?, expires_at = ? "
            "WHERE session_id = ?",
            (state.value, self._time(last_seen_at), self._time(expires_at), session_id),
        )

    def see_session(self, session_id: str, last_seen_at: datetime) -> None:
        # Neither state nor expires_at in the SET list: their index entry is left alone.
        self._run(
            "UPDATE charging_sessions SET last_seen_at = ? WHERE session_id = ?",
            (self._time(last_seen_at), session_id),
        )

    def count_open_sessions(self, wallet_id: int) -> int:
        row = self._one(
            "SELECT count(*) FROM charging_sessions WHERE wallet_id = ? AND state = ?",
            (wallet_id, SessionState.OPEN.value),
        )
        return 0 if row is None else int(row[0])

    def expired_sessions(self, now: datetime, limit: int) -> list[ChargingSession]:
        rows = self._rows(
            f"SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE state = ? AND expires_at <= ? "
            "ORDER BY expires_at LIMIT ?",
            (SessionState.OPEN.value, self._time(now), limit),
        )
        return [self._session(r) for r in rows]

    # -- reservations ------------------------------------------------------------------------

    def _reservation(self, row: tuple[Any, ...]) -> Reservation:
        return Reservation(
            id=int(row[0]),
            session_id=row[1],
            wallet_id=row[2],
            rating_group=row[3],
            service_identifier=row[4],
            charging_class=row[5],
            unit=row[6],
            granted_units=int(row[7]),
            used_units=int(row[8]),
            state=ReservationState(row[9]),
            created_at=self._required_time(row[10]),
            expires_at=self._required_time(row[11]),
            ended_at=self._read_time(row[12]),
            ended_by=row[13],
        )

    def insert_reservation(self, reservation: Reservation, holds: Mapping[str, int]) -> int:
        r = reservation
        reservation_id = self._insert_returning_id(
            "INSERT INTO reservations (session_id, wallet_id, rating_group, service_identifier, "
            "charging_class, unit, granted_units, used_units, state, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.session_id,
                r.wallet_id,
                r.rating_group,
                r.service_identifier,
                r.charging_class,
                r.unit,
                r.granted_units,
                r.used_units,
                r.state.value,
                self._time(r.created_at),
                self._time(r.expires_at),
            ),
        )
        for balance_type, amount in holds.items():
            if amount:
                self._run(
                    "INSERT INTO reservation_holds (reservation_id, balance_type, amount) "
                    "VALUES (?, ?, ?)",
                    (reservation_id, balance_type, amount),
                )
        return reservation_id

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        row = self._one(f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = ?",
                        (reservation_id,))  # fmt: skip
        return None if row is None else self._reservation(row)

    def open_reservations_of_session(self, wallet_id: int, session_id: str) -> list[Reservation]:
        rows = self._rows(
            f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE wallet_id = ? "
            f"AND session_id = ? AND {OPEN_STATE_SQL} ORDER BY id",
            (wallet_id, session_id),
        )
        return [self._reservation(r) for r in rows]

    def list_reservations(self, wallet_id: int, limit: int) -> list[Reservation]:
        rows = self._rows(
            f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE wallet_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (wallet_id, limit),
        )
        return [self._reservation(r) for r in rows]

    def holds_of(self, reservation_id: int) -> dict[str, int]:
        rows = self._rows(
            "SELECT balance_type, amount FROM reservation_holds WHERE reservation_id = ?",
            (reservation_id,),
        )
        return {bt: int(amount) for bt, amount in rows}

    def holds_of_wallet(self, wallet_id: int) -> dict[str, int]:
        """What open reservations hold on each balance type of a wallet."""
        # Without statistics SQLite would take the plain wallet index, ended reservations too.
        only_open = " INDEXED BY ix_reservations_open_wallet_session" if self._sqlite else ""
        rows = self._rows(
            f"SELECT h.balance_type, sum(h.amount) FROM reservations r{only_open} "
            "JOIN reservation_holds h ON h.reservation_id = r.id "
            f"WHERE r.wallet_id = ? AND r.{OPEN_STATE_SQL} GROUP BY h.balance_type",
            (wallet_id,),
        )
        return {bt: int(total) for bt, total in rows}

    def end_reservation(
        self,
        reservation_id: int,
        state: ReservationState,
        used_units: int,
        at: datetime,
        ended_by: str,
    ) -> bool:
        """Resolve an open reservation; False when it had already ended (resolves once)."""
        sql = (
            "UPDATE reservations SET state = ?, used_units = ?, ended_at = ?, ended_by = ? "
            f"WHERE id = ? AND {OPEN_STATE_SQL}"
        )
        params = (state.value, used_units, self._time(at), ended_by, reservation_id)
        if self._sqlite:
            return bool(self._run(sql, params).rowcount == 1)
        # In a pipeline (uow.pipeline) the row count is not there yet; a read waits for it.
        return len(self._rows(sql + " RETURNING id", params)) == 1

    def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        rows = self._rows(
            f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {OPEN_STATE_SQL} "
            "AND expires_at <= ? ORDER BY expires_at, id LIMIT ?",
            (self._time(now), limit),
        )
        return [self._reservation(r) for r in rows]

    def open_counts(self) -> tuple[int, int]:
        sessions = self._one(
            "SELECT count(*) FROM charging_sessions WHERE state = ?", (SessionState.OPEN.value,)
        )
        reservations = self._one(f"SELECT count(*) FROM reservations WHERE {OPEN_STATE_SQL}")
        return int(sessions[0] if sessions else 0), int(reservations[0] if reservations else 0)

    # -- the wallet side of a charging request -------------------------------------------------

    def resolve_identity(self, value: str) -> tuple[int, int] | None:
        """(subscriber id, primary wallet id) of the subscriber owning a resource value."""
        row = self._one(
            "SELECT r.subscriber_id, l.wallet_id FROM resources r "
            "JOIN wallet_links l ON l.subscriber_id = r.subscriber_id AND l.wallet_type = ? "
            "WHERE r.value = ? ORDER BY r.id LIMIT 1",
            ("PRIMARY", value),
        )
        return None if row is None else (int(row[0]), int(row[1]))

    def lock_wallets(self, wallet_ids: Collection[int]) -> None:
        if self._sqlite or not wallet_ids:
            return  # SQLite's transaction already holds the one write lock
        # ORDER BY before FOR UPDATE: rows are locked in id order, the same in every engine.
        self._rows(
            "SELECT id FROM wallets WHERE id = ANY(?) ORDER BY id FOR UPDATE",
            (sorted(wallet_ids),),
        )

    def wallet_revision(self, wallet_id: int, lock: bool) -> int | None:
        lock_sql = " FOR UPDATE" if lock and not self._sqlite else ""
        row = self._one(f"SELECT revision FROM wallets WHERE id = ?{lock_sql}", (wallet_id,))
        return None if row is None else int(row[0])

    def data_version(self) -> object | None:
        if not self._triggers_off:
            return None
        row = self._one("PRAGMA data_version")
        assert row is not None
        # SQLite's count is per connection: paired with a token of this connection, so that a
        # count read on another one never compares equal.
        token = self._conn.info.setdefault(CONNECTION_TOKEN, object())
        return (token, int(row[0]))

    def written_revision(self, wallet_id: int) -> int | None:
        if not self._triggers_off:
            return self.wallet_revision(wallet_id, lock=False)
        # What the revision triggers would have done, once: random() as in migration 0013.
        row = self._one(
            "UPDATE wallets SET revision = random() WHERE id = ? RETURNING revision", (wallet_id,)
        )
        return None if row is None else int(row[0])

    def note_wallets_changed(self, wallet_ids: Collection[int]) -> None:
        if self._triggers_off:
            self._run_many(
                "UPDATE wallets SET revision = random() WHERE id = ?",
                [(wallet_id,) for wallet_id in sorted(wallet_ids)],
            )

    def load_wallet(
        self, wallet_id: int
    ) -> tuple[Wallet, list[WalletBalance], list[Bucket]] | None:
        """The wallet (locked for this transaction), its balances and its buckets."""
        lock = "" if self._sqlite else " FOR UPDATE"
        row = self._one(f"SELECT {WALLET_COLUMNS} FROM wallets WHERE id = ?{lock}", (wallet_id,))
        if row is None:
            return None
        t = self._read_time
        wallet = Wallet(
            id=row[0],
            reference=row[1] or "",
            service_provider=row[2],
            product_type=row[3],
            currency=row[4],
            display_currency=row[5],
            customer_id=row[6],
            limit_type=LimitType(row[7]),
            minimum_credit=row[8],
            max_concurrent_accesses=row[9],
            state=WalletState(row[10]),
            expires_at=t(row[11]),
            created_at=self._required_time(row[12]),
            activated_at=t(row[13]),
            last_used_at=t(row[14]),
            state_changed_at=self._required_time(row[15]),
        )
        balances = [
            WalletBalance(wallet_id, r[0], LimitType(r[1]), r[2], r[3])
            for r in self._rows(
                "SELECT balance_type, limit_type, minimum_credit, display_currency "
                "FROM wallet_balances WHERE wallet_id = ? ORDER BY balance_type",
                (wallet_id,),
            )
        ]
        buckets = [
            Bucket(int(r[0]), r[1], int(r[2]), t(r[3]), t(r[4]))
            for r in self._rows(
                "SELECT id, balance_type, value, start_at, expires_at FROM buckets "
                "WHERE wallet_id = ? ORDER BY id",
                (wallet_id,),
            )
        ]
        return wallet, balances, buckets

    # -- granted balances (offers) ------------------------------------------------------------

    def grants_of_wallet(self, wallet_id: int) -> list[GrantUsage]:
        """The wallet's grants whose bucket may still be charged, oldest first."""
        rows = self._rows(
            "SELECT id, balance_type, bucket_id, granted, period_end, reject_at_full, "
            "thresholds_pct, first_usage_notify, notified_thresholds_pct, first_used_at, "
            "exhausted_at FROM balance_grants WHERE wallet_id = ? AND bucket_id IS NOT NULL "
            "ORDER BY id",
            (wallet_id,),
        )
        t = self._read_time
        return [
            GrantUsage(int(r[0]), r[1], r[2], int(r[3]), t(r[4]), bool(r[5]), parse_pct(r[6]),
                       bool(r[7]), parse_pct(r[8]), t(r[9]), t(r[10]))
            for r in rows
        ]  # fmt: skip

    def update_grant_usage(self, grant: GrantUsage) -> None:
        self._run(
            "UPDATE balance_grants SET notified_thresholds_pct = ?, first_used_at = ?, "
            "exhausted_at = ? WHERE id = ?",
            (
                format_pct(grant.notified_thresholds_pct),
                self._time(grant.first_used_at),
                self._time(grant.exhausted_at),
                grant.id,
            ),
        )

    def insert_bucket(self, wallet_id: int, bucket: Bucket) -> int:
        return self._insert_returning_id(
            "INSERT INTO buckets (wallet_id, balance_type, value, start_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                wallet_id,
                bucket.balance_type,
                bucket.value,
                self._time(bucket.start_at),
                self._time(bucket.expires_at),
            ),
        )

    def update_bucket(self, bucket: Bucket) -> None:
        self._run(
            "UPDATE buckets SET value = ?, start_at = ?, expires_at = ? WHERE id = ?",
            (bucket.value, self._time(bucket.start_at), self._time(bucket.expires_at), bucket.id),
        )

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        self._run("UPDATE buckets SET value = ? WHERE id = ?", (value, bucket_id))

    def delete_bucket(self, bucket_id: int) -> None:
        self._run("DELETE FROM buckets WHERE id = ?", (bucket_id,))

    def links_of_wallet(self, wallet_id: int) -> list[WalletLink]:
        rows = self._rows(
            "SELECT subscriber_id, wallet_type, wallet_id FROM wallet_links WHERE wallet_id = ? "
            "ORDER BY linked_at, subscriber_id",
            (wallet_id,),
        )
        return [WalletLink(r[0], WalletType(r[1]), r[2]) for r in rows]

    def update_wallet(self, wallet: Wallet) -> None:
        """The same columns as the wallet repository writes (activation, waking, states)."""
        t = self._time
        self._run(
            "UPDATE wallets SET service_provider = ?, product_type = ?, currency = ?, "
            "display_currency = ?, customer_id = ?, limit_type = ?, minimum_credit = ?, "
            "max_concurrent_accesses = ?, state = ?, expires_at = ?, created_at = ?, "
            "activated_at = ?, last_used_at = ?, state_changed_at = ? WHERE id = ?",
            (wallet.service_provider, wallet.product_type, wallet.currency,
             wallet.display_currency, wallet.customer_id, wallet.limit_type.value,
             wallet.minimum_credit, wallet.max_concurrent_accesses, wallet.state.value,
             t(wallet.expires_at), t(wallet.created_at), t(wallet.activated_at),
             t(wallet.last_used_at), t(wallet.state_changed_at), wallet.id),
        )  # fmt: skip

    def append_history(self, entry: WalletHistoryEntry) -> None:
        self._run(
            "INSERT INTO wallet_history (wallet_id, at, event, operator, state_from, state_to, "
            "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.wallet_id, self._time(entry.at), entry.event.value, entry.operator,
             None if entry.state_from is None else entry.state_from.value,
             None if entry.state_to is None else entry.state_to.value, entry.detail),
        )  # fmt: skip

    def activation_credits(self, product_type: str) -> list[ActivationCredit]:
        rows = self._rows(
            "SELECT product_type, balance_type, amount, validity_s FROM activation_credits "
            "WHERE product_type = ? ORDER BY balance_type",
            (product_type,),
        )
        return [ActivationCredit(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def set_wallet_last_used(self, wallet_id: int, at: datetime) -> None:
        self._run("UPDATE wallets SET last_used_at = ? WHERE id = ?", (self._time(at), wallet_id))

    def insert_edr(self, edr: Edr, subscriber_noted: bool = False) -> int:
        """The same rows as the EDR repository writes, one EDR with its lines and tags."""
        edr_id = self._insert_returning_id(
            "INSERT INTO edrs (type, at, wallet_id, subscriber_id, wallet_type, operator, "
            "change_reason, called_number, duration_s, session_id, discounts, partial, "
            "reverses_edr_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                edr.type.value,
                self._time(edr.at),
                edr.wallet_id,
                edr.subscriber_id,
                None if edr.wallet_type is None else edr.wallet_type.value,
                edr.operator,
                edr.change_reason,
                edr.called_number,
                edr.duration_s,
                edr.session_id,
                edr.discounts,
                edr.partial,
                edr.reverses_edr_id,
                detail_text(edr.detail),
            ),
        )
        self._run_many(
            "INSERT INTO edr_balances (edr_id, balance_type, unit_class, currency, "
            "old_value, delta_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    edr_id,
                    line.balance_type,
                    line.unit_class.value,
                    line.currency,
                    line.old_value,
                    line.delta_value,
                    line.new_value,
                )
                for line in edr.balances
            ],
        )
        self._run_many(
            "INSERT INTO edr_tags (edr_id, key, value) VALUES (?, ?, ?)",
            [(edr_id, key, value) for key, value in edr.tags],
        )
        if self._triggers_off and edr.subscriber_id is not None and not subscriber_noted:
            # What trigger edrs_subscriber_wallet does (migration 0020).
            self._run(
                "INSERT OR IGNORE INTO subscriber_edr_wallets (subscriber_id, wallet_id) "
                "VALUES (?, ?)",
                (edr.subscriber_id, edr.wallet_id),
            )
        return edr_id
