"""A wallet catalogue on top of the CASM basics, subscriber helpers, and the ledger check that
every balance equals the sum of its EDR deltas (for live and for deleted wallets)."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from ocs.storage import tables as t
from tests.support.catalog import PROVIDER, load_basics

PRODUCT = "PT"
# CASH: money that may go into credit; DATA: capped with LIMIT; SMS: capped with REJECT;
# VOICE: seconds without maximum; BONUS: money without credit.
WALLET_CATALOG: tuple[tuple[ConfigKind, dict[str, object]], ...] = (
    (ConfigKind.CURRENCY, {"code": "USD", "name": "US dollar", "scale": 2}),
    (ConfigKind.CURRENCY, {"code": "JPY", "name": "Yen", "scale": 0}),
    (ConfigKind.BALANCE_TYPE, {"code": "CASH", "name": "General cash", "unit": "MONEY",
                               "currency": "EUR", "allow_credit": True}),
    (ConfigKind.BALANCE_TYPE, {"code": "BONUS", "name": "Bonus cash", "unit": "MONEY",
                               "currency": "EUR"}),
    (ConfigKind.BALANCE_TYPE, {"code": "DATA", "name": "Data", "unit": "OCTETS",
                               "maximum_balance": 1000, "maximum_balance_policy": "LIMIT"}),
    (ConfigKind.BALANCE_TYPE, {"code": "SMS", "name": "SMS", "unit": "EVENTS",
                               "maximum_balance": 100, "maximum_balance_policy": "REJECT"}),
    (ConfigKind.BALANCE_TYPE, {"code": "VOICE", "name": "Voice", "unit": "SECONDS"}),
    (ConfigKind.PRODUCT_TYPE, {"code": PRODUCT, "name": "Prepaid", "service_provider": PROVIDER,
                               "currency": "EUR", "default_balance_type": "CASH",
                               "max_concurrent_accesses": 3}),
)  # fmt: skip

_numbers = itertools.count(1)


def load_wallet_catalog(services: Services, actor: Actor) -> None:
    load_basics(services, actor)
    for kind, payload in WALLET_CATALOG:
        services.configuration.create(actor, kind, payload)
    limits = services.wallet_settings.set_adjustment_limits
    limits(actor, PRODUCT, "CASH", -5000, 10000)
    limits(actor, PRODUCT, "DATA", 0, 5000)
    limits(actor, PRODUCT, "SMS", -50, 500)
    limits(actor, PRODUCT, "VOICE", -(10**9), 10**9)


def new_subscriber(
    services: Services, actor: Actor, wallet: WalletInput | None = None, account_id: int = 0
) -> int:
    """A subscriber (in a new account unless given) with a primary wallet by default."""
    account_id = account_id or new_account(services, actor)
    number = next(_numbers)
    inp = SubscriberInput(
        subscriber_id=f"31600{number:06d}",
        account_id=account_id,
        wallet=wallet or WalletInput(product_type=PRODUCT),
    )
    return services.casm.create_subscriber(actor, inp).subscriber.id


def new_account(services: Services, actor: Actor) -> int:
    number = next(_numbers)
    customer = services.casm.create_customer(
        actor, CustomerInput(name=f"Customer {number}", service_provider=PROVIDER)
    )
    inp = AccountInput(customer_id=customer.id, account_type="PAYER")
    return services.casm.create_account(actor, inp).id


def wallet_of(services: Services, actor: Actor, subscriber_id: int, kind: str = "PRIMARY") -> int:
    for view in services.wallets.subscriber_wallets(actor, subscriber_id):
        for link in view.links:
            if link.subscriber_id == subscriber_id and link.wallet_type == kind:
                return view.wallet.id
    raise AssertionError(f"subscriber {subscriber_id} has no {kind} wallet")


def ledger_fingerprint(services: Services) -> tuple[object, ...]:
    """Everything a refused wallet request must leave as it was."""
    with services.engine.connect() as conn:
        rows: list[object] = []
        for table in (t.wallets, t.wallet_links, t.wallet_balances, t.buckets, t.wallet_history,
                      t.edrs, t.edr_balances, t.subscribers):  # fmt: skip
            rows.append(tuple(conn.execute(sa.select(table).order_by(*table.primary_key))))
        return tuple(rows)


def assert_balances_explained(services: Services) -> None:
    """Every wallet's balances equal the sums of its EDR deltas; a deleted (or merged-away)
    wallet's EDR deltas sum to zero."""
    auditor = Actor("auditor", frozenset({Privilege.READ}))
    with services.engine.connect() as conn:
        live = set(conn.scalars(sa.select(t.wallets.c.id)))
        recorded = set(conn.scalars(sa.select(t.edrs.c.wallet_id).distinct()))
    for wallet_id in sorted(live):
        checks = services.edrs.reconcile(auditor, wallet_id)
        bad = [c for c in checks if not c.consistent]
        assert not bad, f"wallet {wallet_id}: {bad}"
    for wallet_id in sorted(recorded - live):
        with services.store.transaction() as uow:
            sums = uow.edrs.delta_sums(wallet_id)
        assert all(v == 0 for v in sums.values()), f"deleted wallet {wallet_id}: {sums}"
