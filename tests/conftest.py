"""Fixtures shared by every test: databases on both backends, services, operators."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.storage.engine import make_engine, migrate
from tests.support.clock import FakeClock
from tests.support.postgres import PostgresServer

BACKENDS = ("sqlite", "postgres")
TEMPLATE_DB = "ocs_template"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    engine = make_engine(server.url())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"CREATE DATABASE {TEMPLATE_DB}"))
    engine.dispose()
    template = make_engine(server.url(TEMPLATE_DB))
    migrate(template)
    template.dispose()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated database per test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ocs.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"ocs_test_{next(_db_counter)}"
    admin = make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
    yield server.url(name)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def extra_domain_urls(
    tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[tuple[str, str], ...]]:
    """Two more charging domains: "east" on SQLite and "west" on PostgreSQL."""
    east = tmp_path / "east.db"
    shutil.copyfile(sqlite_template, east)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"ocs_west_{next(_db_counter)}"
    admin = make_engine(server.url())
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
    yield (("east", f"sqlite:///{east}"), ("west", server.url(name)))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def domain_services(
    database_url: str, extra_domain_urls: tuple[tuple[str, str], ...], clock: FakeClock
) -> Iterator[Services]:
    """Services over three charging domains: the default one (SQLite or PostgreSQL), "east"
    (SQLite) and "west" (PostgreSQL)."""
    built = build_services(
        Settings(database_url=database_url, charging_domain_urls=extra_domain_urls), clock
    )
    yield built
    built.engine.dispose()
    built.domains.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(database_url: str, clock: FakeClock) -> Iterator[Services]:
    built = build_services(Settings(database_url=database_url), clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor("tester", frozenset(Privilege))
