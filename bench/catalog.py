"""The chargeable catalogue the benchmarks provision, and how bench subscribers are numbered.

A copy of the test suite's charging catalogue (bench/ does not import tests/): a prepaid product
type whose tariff plan charges data by the megabyte, on a cash balance.
"""

from __future__ import annotations

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.service.actor import Actor

PROVIDER = "BENCH"
PRODUCT_TYPE = "BENCH-PRE"
CASH = "CASH"
MB = 1_000_000
DATA_RG = 10
VOICE_RG = 20
# Data costs 2 cents per started megabyte.
DATA_PRICE_CENTS = 2
# Sessions a wallet may have open at once. Load generators pick subscribers at random, so two
# sessions of one subscriber overlap now and then; this keeps that from being refused.
MAX_CONCURRENT_ACCESSES = 8

MSISDN_PREFIX = "3169"
MSISDN_DIGITS = 7  # up to 10 million subscribers


def msisdn(index: int) -> str:
    """The MSISDN of bench subscriber `index` (0-based); every one has the same length."""
    if not 0 <= index < 10**MSISDN_DIGITS:
        raise ValueError(f"subscriber index {index} out of range")
    return f"{MSISDN_PREFIX}{index:0{MSISDN_DIGITS}d}"


CATALOG: tuple[tuple[ConfigKind, dict[str, object]], ...] = (
    (ConfigKind.SERVICE_PROVIDER, {"code": PROVIDER, "name": "Benchmark provider"}),
    (ConfigKind.CURRENCY, {"code": "EUR", "name": "Euro", "scale": 2}),
    (ConfigKind.ACCOUNT_TYPE, {"code": "PAYER", "name": "Payer", "payment_responsible": True}),
    (ConfigKind.RESOURCE_TYPE, {"code": "MSISDN", "name": "MSISDN", "primary": True}),
    (ConfigKind.CHARGING_CLASS, {"code": "ALL", "name": "All"}),
    (ConfigKind.CHARGING_CLASS, {"code": "DATA", "name": "Data", "parent": "ALL"}),
    (ConfigKind.CHARGING_CLASS, {"code": "VOICE", "name": "Voice", "parent": "ALL"}),
    (ConfigKind.TARIFF_PLAN, {"code": "STD", "name": "Standard", "currency": "EUR"}),
    (ConfigKind.TARIFF_RATE, {"code": "DATA-1", "name": "Data", "tariff_plan": "STD",
                              "charging_class": "DATA", "unit": "OCTETS",
                              "price": DATA_PRICE_CENTS, "unit_size": MB, "rounding_unit": MB}),
    (ConfigKind.TARIFF_RATE, {"code": "VOICE-1", "name": "Voice", "tariff_plan": "STD",
                              "charging_class": "VOICE", "unit": "SECONDS", "price": 10,
                              "unit_size": 60, "rounding_unit": 60}),
    (ConfigKind.RATING_GROUP, {"code": "RG10", "name": "Internet", "rating_group": DATA_RG,
                               "charging_class": "DATA", "unit": "OCTETS"}),
    (ConfigKind.RATING_GROUP, {"code": "RG20", "name": "Voice", "rating_group": VOICE_RG,
                               "charging_class": "VOICE", "unit": "SECONDS"}),
    (ConfigKind.BALANCE_TYPE, {"code": CASH, "name": "Cash", "unit": "MONEY",
                               "currency": "EUR"}),
    (ConfigKind.PRODUCT_TYPE, {"code": PRODUCT_TYPE, "name": "Prepaid",
                               "service_provider": PROVIDER, "currency": "EUR",
                               "tariff_plan": "STD", "default_balance_type": CASH,
                               "max_concurrent_accesses": MAX_CONCURRENT_ACCESSES}),
)  # fmt: skip


def load_catalog(services: Services, admin: Actor) -> bool:
    """Create the catalogue through the configuration service; False if it is already there."""
    existing = services.configuration.list_records(admin, ConfigKind.PRODUCT_TYPE)
    if any(record["code"] == PRODUCT_TYPE for record in existing):
        return False
    for kind, payload in CATALOG:
        services.configuration.create(admin, kind, payload)
    return True
