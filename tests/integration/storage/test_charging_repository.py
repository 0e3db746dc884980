"""The charging repository's reservation lookups on SQLite: each query for open reservations
is answered from the indexes over the open ones (migrations 0019 and 0021), never by reading
every reservation ever made. And the prune of stored answers on both backends."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.storage.charging_repository import SqlChargingRepository
from ocs.storage.engine import make_engine
from ocs.storage.sqlite_triggers import run_without_triggers

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class _Recording(SqlChargingRepository):
    """The repository itself, noting each statement with its parameters as they are bound."""

    seen: list[tuple[str, Sequence[Any]]]

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.seen.append((sql, params))
        return super()._run(sql, params)


def test_open_reservation_lookups_search_the_open_only_indexes(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ocs.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        repo = _Recording(conn)
        repo.seen = []
        repo.open_reservations_of_session(1, "s-1")
        repo.holds_of_wallet(1)
        repo.expired_reservations(NOW, 10)
        repo.open_counts()
        repo.list_reservations(1, 10)
        driver = conn.connection.driver_connection
        assert driver is not None
        plans = {
            sql: " | ".join(row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in repo.seen
            if "FROM reservations" in sql or "JOIN reservations" in sql
        }
    engine.dispose()
    assert len(plans) == 5
    for sql, plan in plans.items():
        # The listing shows ended reservations too; every other lookup wants open ones only.
        index = "ix_reservations_wallet " if "ORDER BY id DESC" in sql else "ix_reservations_open_"
        assert f"INDEX {index}" in f"{plan} ", (sql, plan)


def test_answers_older_than_the_cut_are_pruned_and_younger_ones_kept(
    services: Services,
) -> None:
    hour = timedelta(hours=1)
    written = [  # in the order they are written; the fourth under a clock set back
        ("s-a", NOW - 3 * hour),
        ("s-b", NOW - 2 * hour),
        ("s-c", NOW),
        ("s-d", NOW - 3 * hour),
        ("s-e", NOW + hour),
    ]
    with services.store.transaction() as uow:
        for session_id, at in written:
            uow.charging.put_answer(session_id, 1, at, "{}")
    with services.store.transaction() as uow:
        pruned = uow.charging.delete_answers_before(NOW - hour, 100)
    with services.store.transaction() as uow:
        kept = [s for s, _ in written if uow.charging.get_answer(s, 1) is not None]
    # On SQLite an answer written after a younger one waits for it (rowid order); PostgreSQL
    # goes by time alone. Neither prunes an answer younger than the cut.
    if services.engine.dialect.name == "sqlite":
        assert (pruned, kept) == (2, ["s-c", "s-d", "s-e"])
        with services.engine.connect() as conn:  # the index the rowid order stands in for
            index_names = {row[1] for row in conn.exec_driver_sql(
                "PRAGMA index_list(charging_answers)")}  # fmt: skip
        assert "ix_charging_answers_at" not in index_names
    else:
        assert (pruned, kept) == (3, ["s-c", "s-e"])
    with services.store.transaction() as uow:
        uow.charging.delete_answers_before(NOW + 2 * hour, 100)
    with services.store.transaction() as uow:
        assert all(uow.charging.get_answer(s, 1) is None for s, _ in written)


def test_a_prune_deletes_at_most_its_limit_oldest_first(services: Services) -> None:
    with services.store.transaction() as uow:
        for minute in range(5):
            uow.charging.put_answer(f"s-{minute}", 1, NOW + timedelta(minutes=minute), "{}")
    cut = NOW + timedelta(hours=1)
    pruned = []
    for _ in range(4):
        with services.store.transaction() as uow:
            pruned.append(uow.charging.delete_answers_before(cut, 2))
        with services.store.transaction() as uow:
            kept = [m for m in range(5) if uow.charging.get_answer(f"s-{m}", 1) is not None]
        assert kept == list(range(sum(pruned), 5))
    assert pruned == [2, 2, 1, 0]


def test_the_data_version_moves_only_with_another_connection_s_commit(services: Services) -> None:
    """What lets the engine trust its copies without a read (ADR 0014): on its own connections
    (no triggers), the version stays across its own commits and moves with anyone else's."""
    with services.store.transaction() as uow:
        assert uow.charging.data_version() is None  # triggers fire: revisions tell
    engine_side = build_services(Settings(database_url=str(services.engine.url)), services.clock)
    run_without_triggers(engine_side.engine)
    engine_side.store.pin_connection()
    sqlite = services.engine.dialect.name == "sqlite"

    def version() -> object | None:
        with engine_side.store.transaction() as uow:
            return uow.charging.data_version()

    try:
        first = version()
        if not sqlite:
            assert first is None  # PostgreSQL: the triggers are on everywhere
            return
        with engine_side.store.transaction() as uow:  # the engine's own commit
            uow.settings.put("test.key", "engine")
        assert version() == first
        with services.store.transaction() as uow:  # anyone else's
            uow.settings.put("test.key", "operator")
        moved = version()
        assert moved != first
        assert version() == moved
        with engine_side.engine.connect() as other, other.begin():  # the pinned one is busy
            assert SqlChargingRepository(other).data_version() != moved
    finally:
        engine_side.store.unpin_connection()
        engine_side.engine.dispose()
