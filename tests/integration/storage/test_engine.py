"""Per-connection settings of SQLite engines, for the charging engine's connections."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import pq
from sqlalchemy.exc import DBAPIError

from ocs.bootstrap import Services
from ocs.core.wallets import Wallet
from ocs.service.actor import Actor
from ocs.storage.engine import driver_of, make_engine, set_page_cache, sqlite_file
from tests.support.locks import run_beside
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

# SQLite's and PostgreSQL's words for a write in a transaction that only reads.
READ_ONLY_ERROR = r"readonly|read-only"


def test_the_engine_s_connections_get_the_page_cache_asked_for(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ocs.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000  # SQLite's 2 MB
    set_page_cache(engine, 64)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -64 * 1024
    engine.dispose()
    set_page_cache(make_engine("postgresql://nobody@127.0.0.1:1/none"), 64)  # no connection


def test_only_a_sqlite_file_has_a_path(tmp_path: Path) -> None:
    assert sqlite_file(make_engine(f"sqlite:///{tmp_path / 'ocs.db'}")) == str(tmp_path / "ocs.db")
    assert sqlite_file(make_engine("sqlite://")) is None
    assert sqlite_file(make_engine("sqlite:///:memory:")) is None
    assert sqlite_file(make_engine("postgresql://nobody@127.0.0.1:1/none")) is None


def test_a_reading_unit_of_work_sees_commits_and_refuses_writes(services: Services) -> None:
    with services.store.transaction() as uow:
        uow.settings.put("test.key", "committed")
    with services.store.reading() as uow:
        assert uow.settings.get("test.key") == "committed"
    with pytest.raises(DBAPIError, match=READ_ONLY_ERROR), services.store.reading() as uow:
        uow.settings.put("test.key", "written while reading")
    # The connection goes back to the pool writable again.
    for _ in range(3):
        with services.store.transaction() as uow:
            uow.settings.put("test.key", "written after")
    with services.store.reading() as uow:
        assert uow.settings.get("test.key") == "written after"


def test_reading_neither_waits_for_a_writer_nor_sees_what_it_has_not_committed(
    services: Services,
) -> None:
    with services.store.transaction() as uow:
        uow.settings.put("test.key", "committed")

    def read() -> str | None:
        with services.store.reading() as uow:
            return uow.settings.get("test.key")

    with services.store.transaction() as uow:
        uow.settings.put("test.key", "not yet committed")
        assert run_beside(read) == "committed"
    assert read() == "not yet committed"


def test_reading_over_several_domains_neither_waits_nor_writes(
    domain_services: Services, admin: Actor
) -> None:
    load_wallet_catalog(domain_services, admin)
    wallet_id = wallet_of(domain_services, admin, new_subscriber(domain_services, admin))
    domain_services.domains.move_wallet(wallet_id, "default", "east")

    def read() -> Wallet | None:
        with domain_services.store.reading() as uow:
            return uow.wallets.get_wallet(wallet_id)  # from the east domain

    found = read()
    assert found is not None
    assert found.id == wallet_id
    with domain_services.store.transaction() as uow:
        uow.wallets.update_wallet(found)  # the writer holds east as well as the main database
        assert run_beside(read) == found
    with pytest.raises(DBAPIError, match=READ_ONLY_ERROR), domain_services.store.reading() as uow:
        uow.wallets.update_wallet(found)


def test_a_pipeline_still_answers_every_read_in_order(services: Services) -> None:
    at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    with services.store.transaction() as uow, uow.pipeline():
        if services.engine.dialect.name == "postgresql":  # the scope is in pipeline mode
            raw = driver_of(uow._conn)  # type: ignore[attr-defined]
            assert raw.pgconn.pipeline_status != pq.PipelineStatus.OFF
        uow.charging.put_answer("s-1", 0, at, '{"a": 1}')  # driver statements, not awaited
        uow.settings.put("pipelined", "first")  # SQLAlchemy reads its row count
        uow.settings.put("pipelined", "second")
        assert uow.settings.get("pipelined") == "second"
        assert uow.charging.get_answer("s-1", 0) == '{"a": 1}'
    with services.store.reading() as uow:
        assert uow.settings.get("pipelined") == "second"
        assert uow.charging.get_answer("s-1", 0) == '{"a": 1}'
