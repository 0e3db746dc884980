"""Per-connection settings of SQLite engines, for the charging engine's connections."""

from __future__ import annotations

from pathlib import Path

from ocs.storage.engine import make_engine, set_page_cache, sqlite_file


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
