"""Composition root: wires storage, clock and services. Nothing runs at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from ocs.adapters.notify_channels import build_notification_delivery
from ocs.adapters.passwords import Argon2Hasher
from ocs.adapters.pin_hashing import Argon2PinHasher
from ocs.config import Settings
from ocs.service.batches import BatchService
from ocs.service.bpl import BplService
from ocs.service.casm import CasmService
from ocs.service.charging import ChargingEngine, ChargingSettings
from ocs.service.charging_monitor import ChargingMonitor
from ocs.service.configuration import ConfigurationService
from ocs.service.credit_cards import CreditCardService
from ocs.service.credit_transfers import CreditTransferService
from ocs.service.domains import DomainService
from ocs.service.edrs import EdrService
from ocs.service.features import FeatureServices, build_feature_services
from ocs.service.grants import GrantService
from ocs.service.migrations import MigrationRunner, MigrationService, StoreWalletStates
from ocs.service.notification_delivery import NotificationDelivery
from ocs.service.notifications import NotificationService
from ocs.service.offers import OfferService
from ocs.service.operators import OperatorService
from ocs.service.ports import Clock, Store
from ocs.service.promotions import PromotionService
from ocs.service.reservations import ReservationService
from ocs.service.vouchers import VoucherService
from ocs.service.wallet_settings import WalletSettingsService
from ocs.service.wallets import WalletService
from ocs.storage.domains import DomainRegistry, DomainStore
from ocs.storage.engine import make_engine, migrate
from ocs.storage.repositories import SqlStore
from ocs.storage.wallet_mover import SqlWalletMover


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Services:
    engine: Engine
    # Every database the services write: the main one (engine), then each charging domain's.
    databases: list[Engine]
    store: Store
    clock: Clock
    configuration: ConfigurationService
    casm: CasmService
    bpl: BplService
    promotions: PromotionService
    operators: OperatorService
    wallets: WalletService
    charging: ChargingEngine
    charging_monitor: ChargingMonitor
    reservations: ReservationService
    edrs: EdrService
    wallet_settings: WalletSettingsService
    features: FeatureServices
    offers: OfferService
    grants: GrantService
    batches: BatchService
    vouchers: VoucherService
    credit_transfers: CreditTransferService
    notifications: NotificationService
    notification_delivery: NotificationDelivery
    credit_cards: CreditCardService
    domains: DomainService
    migrations: MigrationService
    migration_runner: MigrationRunner


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Open the database, migrate it to the newest schema and build the services on it."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    clock = clock or SystemClock()
    try:
        registry = DomainRegistry(engine, settings.charging_domain_urls, clock.now())
    except Exception:
        engine.dispose()
        raise
    store: Store = SqlStore(engine)
    if registry.others:
        registry.sync_configuration()
        store = DomainStore(registry)
    mover = SqlWalletMover(registry, clock.now)
    domains = DomainService(registry.names, mover, store, clock)
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
        databases=[engine, *(domain.engine for domain in registry.others)],
        store=store,
        clock=clock,
        configuration=ConfigurationService(store, clock),
        casm=CasmService(store, clock),
        bpl=BplService(store, clock),
        promotions=PromotionService(store, clock),
        operators=OperatorService(store, clock, Argon2Hasher()),
        wallets=WalletService(store, clock),
        charging=charging,
        charging_monitor=ChargingMonitor(store),
        reservations=ReservationService(store, clock, charging),
        edrs=EdrService(store, clock),
        wallet_settings=WalletSettingsService(store, clock),
        features=build_feature_services(store, clock, Argon2Hasher()),
        offers=OfferService(store, clock),
        grants=GrantService(store, clock),
        batches=BatchService(
            store,
            clock,
            Argon2PinHasher(),
            settings.charging_domains,
            move_wallet=domains.move_wallet,
        ),
        vouchers=VoucherService(store, clock, settings.voucher_secret_key),
        credit_transfers=CreditTransferService(store, clock, Argon2Hasher()),
        notifications=NotificationService(store, clock),
        notification_delivery=build_notification_delivery(store, clock, settings),
        domains=domains,
        migrations=MigrationService(store, clock, domains),
        migration_runner=MigrationRunner(store, clock, domains, StoreWalletStates(store)),
        credit_cards=CreditCardService(
            store, clock, WalletService(store, clock), settings.card_token_key
        ),
    )
