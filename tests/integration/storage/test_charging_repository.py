"""The charging repository's reservation lookups on SQLite: each query for open reservations
is answered from the indexes over the open ones (migration 0019), never by reading every
reservation ever made."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocs.storage.charging_repository import SqlChargingRepository
from ocs.storage.engine import make_engine

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
        repo.open_reservations_of_session("s-1")
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
