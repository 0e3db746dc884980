"""Composition root: wires storage, clock and services. Nothing runs at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from ocs.adapters.passwords import Argon2Hasher
from ocs.config import Settings
from ocs.service.casm import CasmService
from ocs.service.configuration import ConfigurationService
from ocs.service.operators import OperatorService
from ocs.service.ports import Clock
from ocs.storage.engine import make_engine, migrate
from ocs.storage.repositories import SqlStore


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Services:
    engine: Engine
    clock: Clock
    configuration: ConfigurationService
    casm: CasmService
    operators: OperatorService


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Open the database, migrate it to the newest schema and build the services on it."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    store = SqlStore(engine)
    clock = clock or SystemClock()
    return Services(
        engine=engine,
        clock=clock,
        configuration=ConfigurationService(store, clock),
        casm=CasmService(store, clock),
        operators=OperatorService(store, clock, Argon2Hasher()),
    )
