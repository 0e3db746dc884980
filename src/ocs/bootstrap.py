"""Composition root: wires storage, clock and services. Nothing runs at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from ocs.adapters.passwords import Argon2Hasher
from ocs.config import Settings
from ocs.service.casm import CasmService
from ocs.service.charging import ChargingEngine, ChargingSettings
from ocs.service.charging_monitor import ChargingMonitor
from ocs.service.configuration import ConfigurationService
from ocs.service.edrs import EdrService
from ocs.service.features import FeatureServices, build_feature_services
from ocs.service.operators import OperatorService
from ocs.service.ports import Clock, Store
from ocs.service.reservations import ReservationService
from ocs.service.wallet_settings import WalletSettingsService
from ocs.service.wallets import WalletService
from ocs.storage.engine import make_engine, migrate
from ocs.storage.repositories import SqlStore


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Services:
    engine: Engine
    store: Store
    clock: Clock
    configuration: ConfigurationService
    casm: CasmService
    operators: OperatorService
    wallets: WalletService
    charging: ChargingEngine
    charging_monitor: ChargingMonitor
    reservations: ReservationService
    edrs: EdrService
    wallet_settings: WalletSettingsService
    features: FeatureServices


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Open the database, migrate it to the newest schema and build the services on it."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    store = SqlStore(engine)
    clock = clock or SystemClock()
    charging = ChargingEngine(
        clock,
        ChargingSettings(
            validity_time_s=settings.charging_validity_time_s,
            session_timeout_s=settings.charging_session_timeout_s,
            rating_time_zone=settings.rating_time_zone,
        ),
    )
    return Services(
        engine=engine,
        store=store,
        clock=clock,
        configuration=ConfigurationService(store, clock),
        casm=CasmService(store, clock),
        operators=OperatorService(store, clock, Argon2Hasher()),
        wallets=WalletService(store, clock),
        charging=charging,
        charging_monitor=ChargingMonitor(store),
        reservations=ReservationService(store, clock, charging),
        edrs=EdrService(store, clock),
        wallet_settings=WalletSettingsService(store, clock),
        features=build_feature_services(store, clock, Argon2Hasher()),
    )
