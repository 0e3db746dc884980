"""A chargeable catalogue (rating, balance types, product type) and chargeable subscribers."""

from __future__ import annotations

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from tests.support.catalog import PROVIDER, load_basics

MB = 1_000_000
DATA_RG = 10
VOICE_RG = 20
SMS_RG = 30

RATING: tuple[tuple[ConfigKind, dict[str, object]], ...] = (
    (ConfigKind.CHARGING_CLASS, {"code": "ALL", "name": "All"}),
    (ConfigKind.CHARGING_CLASS, {"code": "DATA", "name": "Data", "parent": "ALL"}),
    (ConfigKind.CHARGING_CLASS, {"code": "VOICE", "name": "Voice", "parent": "ALL"}),
    (ConfigKind.CHARGING_CLASS, {"code": "SMS", "name": "SMS", "parent": "ALL"}),
    (ConfigKind.TARIFF_PLAN, {"code": "STD", "name": "Standard", "currency": "EUR"}),
    (ConfigKind.TARIFF_RATE, {"code": "DATA-1", "name": "Data", "tariff_plan": "STD",
                              "charging_class": "DATA", "unit": "OCTETS", "price": 2,
                              "unit_size": MB, "rounding_unit": MB}),
    (ConfigKind.TARIFF_RATE, {"code": "VOICE-1", "name": "Voice", "tariff_plan": "STD",
                              "charging_class": "VOICE", "unit": "SECONDS", "price": 10,
                              "unit_size": 60, "rounding_unit": 60}),
    (ConfigKind.TARIFF_RATE, {"code": "VOICE-NL", "name": "Voice NL", "tariff_plan": "STD",
                              "charging_class": "VOICE", "destination_prefix": "31",
                              "unit": "SECONDS", "price": 6, "unit_size": 60,
                              "rounding_unit": 60}),
    (ConfigKind.TARIFF_RATE, {"code": "SMS-1", "name": "SMS", "tariff_plan": "STD",
                              "charging_class": "SMS", "unit": "EVENTS", "price": 5,
                              "unit_size": 1, "rounding_unit": 1}),
    (ConfigKind.RATING_GROUP, {"code": "RG10", "name": "Internet", "rating_group": DATA_RG,
                               "charging_class": "DATA", "unit": "OCTETS"}),
    (ConfigKind.RATING_GROUP, {"code": "RG20", "name": "Voice", "rating_group": VOICE_RG,
                               "charging_class": "VOICE", "unit": "SECONDS"}),
    (ConfigKind.RATING_GROUP, {"code": "RG30", "name": "SMS", "rating_group": SMS_RG,
                               "charging_class": "SMS", "unit": "EVENTS"}),
    (ConfigKind.BALANCE_TYPE, {"code": "CASH", "name": "Cash", "unit": "MONEY",
                               "currency": "EUR"}),
    (ConfigKind.BALANCE_TYPE, {"code": "FREE-DATA", "name": "Free data", "unit": "OCTETS"}),
    (ConfigKind.BALANCE_TYPE_CLASS, {"code": "FREE-DATA-ALL", "name": "Free data",
                                     "balance_type": "FREE-DATA", "charging_class": "DATA"}),
    (ConfigKind.PRODUCT_TYPE, {"code": "PRE", "name": "Prepaid", "service_provider": PROVIDER,
                               "currency": "EUR", "tariff_plan": "STD",
                               "default_balance_type": "CASH", "max_concurrent_accesses": 2}),
)  # fmt: skip


def load_charging_catalog(services: Services, admin: Actor) -> None:
    load_basics(services, admin)
    for kind, payload in RATING:
        services.configuration.create(admin, kind, payload)


def provision_subscriber(services: Services, admin: Actor, msisdn: str) -> int:
    view = services.casm.create_subscriber(
        admin,
        SubscriberInput(
            msisdn,
            account_id=_account(services, admin),
            resources=(ResourceInput("MSISDN", msisdn),),
        ),
    )
    created = services.wallets.create_wallet(
        admin, view.subscriber.id, "PRIMARY", WalletInput(product_type="PRE")
    )
    return created.wallet.id


def _account(services: Services, admin: Actor) -> int:
    customers = services.casm.search_customers(admin, "charging")
    if customers:
        return services.casm.list_accounts(admin, customers[0].id)[0].id
    customer = services.casm.create_customer(
        admin, CustomerInput(name="Charging Test", service_provider=PROVIDER)
    )
    return services.casm.create_account(
        admin, AccountInput(customer_id=customer.id, account_type="PAYER")
    ).id
