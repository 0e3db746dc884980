"""A store pinned to one connection (the charging engine's) commits, rolls back and reports
conflicts as one that takes a connection from the pool per transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.errors import DomainError, ProblemKind
from ocs.storage.repositories import SqlStore


def _count(store: SqlStore, code: str) -> int:
    with store.engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM settings WHERE key = :c")
        return int(conn.scalar(query, {"c": code}) or 0)


def _insert(uow: object, code: str) -> None:
    conn = uow._conn  # type: ignore[attr-defined]
    conn.execute(
        sa.text("INSERT INTO settings (key, value) VALUES (:k, :v)"), {"k": code, "v": code}
    )


def test_a_pinned_store_keeps_one_connection_and_ends_each_transaction(
    services: Services,
) -> None:
    store = SqlStore(services.engine)
    store.pin_connection()
    try:
        _use(store)
    finally:
        store.unpin_connection()
    with store.transaction() as uow:  # from the pool again
        _insert(uow, "PIN4")
    assert _count(store, "PIN4") == 1


def _use(store: SqlStore) -> None:
    drivers = []
    with store.transaction() as uow:
        drivers.append(uow._conn.connection.driver_connection)
        _insert(uow, "PIN1")

    def fails() -> None:
        with store.transaction() as uow:
            drivers.append(uow._conn.connection.driver_connection)
            _insert(uow, "PIN2")
            raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        fails()
    with pytest.raises(DomainError) as conflict, store.transaction() as uow:
        _insert(uow, "PIN1")
    assert conflict.value.kind is ProblemKind.CONFLICT
    with store.transaction() as uow:
        drivers.append(uow._conn.connection.driver_connection)
        _insert(uow, "PIN3")
    assert drivers[0] is drivers[1] is drivers[2]
    assert [_count(store, code) for code in ("PIN1", "PIN2", "PIN3")] == [1, 0, 1]
