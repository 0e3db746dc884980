"""A small demo configuration so a newcomer can explore at once. Loading it twice is a no-op."""

from __future__ import annotations

from collections.abc import Mapping

from ocs.core.configuration import ConfigKind
from ocs.service.actor import Actor
from ocs.service.casm import (
    AccountInput,
    CasmService,
    CustomerInput,
    ResourceInput,
    SubscriberInput,
)
from ocs.service.configuration import ConfigurationService
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import WalletService

DEMO_PROVIDER = "DEMO"

DEMO_CONFIG: tuple[tuple[ConfigKind, Mapping[str, object]], ...] = (
    (ConfigKind.SERVICE_PROVIDER, {"code": DEMO_PROVIDER, "name": "Demo Telecom"}),
    (ConfigKind.CURRENCY, {"code": "EUR", "name": "Euro", "scale": 2}),
    (ConfigKind.CURRENCY, {"code": "USD", "name": "US dollar", "scale": 2}),
    (ConfigKind.ACCOUNT_TYPE, {"code": "PAYER", "name": "Payer", "payment_responsible": True}),
    (ConfigKind.ACCOUNT_TYPE, {"code": "TECH", "name": "Technical"}),
    (ConfigKind.RESOURCE_TYPE, {"code": "MSISDN", "name": "MSISDN", "primary": True}),
    (ConfigKind.RESOURCE_TYPE, {"code": "IMSI", "name": "IMSI"}),
    (ConfigKind.RESOURCE_TYPE, {"code": "SIP", "name": "SIP URI"}),
    (ConfigKind.STATE_REASON, {"code": "NEW", "name": "New sale", "state": "ACTIVE"}),
    (ConfigKind.STATE_REASON, {"code": "PREPARED", "name": "Prepared", "state": "INACTIVE"}),
    (
        ConfigKind.STATE_REASON,
        {"code": "DEBT", "name": "Debt collection", "state": "SUSPENDED", "charged": True},
    ),
    (ConfigKind.STATE_REASON, {"code": "TECHNICAL", "name": "Technical", "state": "SUSPENDED"}),
    (ConfigKind.STATE_REASON, {"code": "CHURN", "name": "Churned", "state": "DEACTIVATED"}),
    (ConfigKind.CUSTOMER_SEGMENT, {"code": "RES", "name": "Residential"}),
    (ConfigKind.CUSTOMER_SEGMENT, {"code": "BIZ", "name": "Business"}),
    (ConfigKind.ACCOUNT_SEGMENT, {"code": "STD", "name": "Standard"}),
    (ConfigKind.SUBSCRIBER_SEGMENT, {"code": "MOBILE", "name": "Mobile"}),
    (
        ConfigKind.BILLING_CYCLE,
        {
            "code": "MONTHLY1",
            "name": "Monthly on the 1st",
            "duration": 1,
            "duration_unit": "MONTH",
            "billing_day": 1,
        },
    ),
    (
        ConfigKind.CUSTOMER_PROFILE,
        {
            "code": "RES-CUST",
            "name": "Residential customer",
            "customer_segment": "RES",
            "customer_state": "ACTIVE",
            "customer_state_reason": "NEW",
        },
    ),
    (
        ConfigKind.ACCOUNT_PROFILE,
        {
            "code": "RES-ACC",
            "name": "Residential payer account",
            "account_type": "PAYER",
            "account_segment": "STD",
            "billing_cycle": "MONTHLY1",
            "payment_responsible": True,
            "currency": "EUR",
            "account_state": "ACTIVE",
            "account_state_reason": "NEW",
            "customer_profile": "RES-CUST",
        },
    ),
    (
        ConfigKind.SUBSCRIBER_PROFILE,
        {
            "code": "RES-SUB",
            "name": "Residential mobile subscriber",
            "subscriber_segment": "MOBILE",
            "subscriber_state": "ACTIVE",
            "subscriber_state_reason": "NEW",
            "account_profile": "RES-ACC",
        },
    ),
    (ConfigKind.CHARGING_CLASS, {"code": "ALL", "name": "All services"}),
    (ConfigKind.CHARGING_CLASS, {"code": "VOICE", "name": "Voice", "parent": "ALL"}),
    (ConfigKind.CHARGING_CLASS, {"code": "VOICE-NAT", "name": "National voice", "parent": "VOICE"}),
    (ConfigKind.CHARGING_CLASS, {"code": "DATA", "name": "Data", "parent": "ALL"}),
    (ConfigKind.CHARGING_CLASS, {"code": "SMS", "name": "SMS", "parent": "ALL"}),
    (
        ConfigKind.BALANCE_TYPE,
        {"code": "CASH", "name": "General cash", "unit": "MONEY", "currency": "EUR"},
    ),
    (
        ConfigKind.BALANCE_TYPE,
        {
            "code": "DATA-MB",
            "name": "Free data",
            "unit": "OCTETS",
            "maximum_balance": 50 * 1024**3,
            "maximum_balance_policy": "LIMIT",
        },
    ),
    (ConfigKind.BALANCE_TYPE, {"code": "VOICE-S", "name": "Free minutes", "unit": "SECONDS"}),
    (
        ConfigKind.TIME_BAND,
        {
            "code": "PEAK",
            "name": "Weekday peak",
            "weekdays": "MON-FRI",
            "start_time": "08:00",
            "end_time": "19:00",
        },
    ),
    (ConfigKind.TARIFF_PLAN, {"code": "STANDARD", "name": "Standard", "currency": "EUR"}),
    *(
        (ConfigKind.TARIFF_RATE, {"code": code, "name": name, "tariff_plan": "STANDARD", **rate})
        for code, name, rate in (
            ("DATA", "Data per MB", {"charging_class": "DATA", "unit": "OCTETS", "price": 1,
                                     "unit_size": 1_000_000, "rounding_unit": 1_000_000}),
            ("VOICE", "Voice per minute", {"charging_class": "VOICE", "unit": "SECONDS",
                                           "price": 12, "unit_size": 60, "rounding_unit": 60}),
            ("VOICE-NL-PEAK", "Dutch voice, peak", {"charging_class": "VOICE", "unit": "SECONDS",
                                                    "destination_prefix": "31",
                                                    "time_band": "PEAK", "price": 9,
                                                    "unit_size": 60, "rounding_unit": 1}),
            ("VOICE-NL", "Dutch voice", {"charging_class": "VOICE", "unit": "SECONDS",
                                         "destination_prefix": "31", "price": 6,
                                         "unit_size": 60, "rounding_unit": 1}),
            ("SMS", "SMS", {"charging_class": "SMS", "unit": "EVENTS", "price": 8,
                            "unit_size": 1, "rounding_unit": 1}),
        )
    ),
    (ConfigKind.RATING_GROUP, {"code": "RG10", "name": "Internet", "rating_group": 10,
                               "charging_class": "DATA", "unit": "OCTETS"}),
    (ConfigKind.RATING_GROUP, {"code": "RG100", "name": "Voice", "rating_group": 100,
                               "charging_class": "VOICE", "unit": "SECONDS"}),
    (ConfigKind.RATING_GROUP, {"code": "RG200", "name": "SMS", "rating_group": 200,
                               "charging_class": "SMS", "unit": "EVENTS"}),
    (ConfigKind.BALANCE_TYPE_CLASS, {"code": "FREE-DATA", "name": "Free data for data",
                                     "balance_type": "DATA-MB", "charging_class": "DATA"}),
    (ConfigKind.BALANCE_TYPE_CLASS, {"code": "FREE-VOICE", "name": "Free minutes for voice",
                                     "balance_type": "VOICE-S", "charging_class": "VOICE",
                                     "include_sub_classes": True}),
    (
        ConfigKind.PRODUCT_TYPE,
        {
            "code": "PREPAID-S",
            "name": "Prepaid Smart",
            "service_provider": DEMO_PROVIDER,
            "currency": "EUR",
            "default_balance_type": "CASH",
            "tariff_plan": "STANDARD",
            "max_concurrent_accesses": 4,
        },
    ),
)  # fmt: skip
DEMO_CASH_MINOR = 1000  # 10.00 EUR each
DEMO_FREE_DATA_OCTETS = 500_000_000

DEMO_SUBSCRIBERS = (
    ("Alice Example", "31612345001", "204080000000001"),
    ("Bob Example", "31612345002", "204080000000002"),
    ("Carol Business", "31612345003", "204080000000003"),
)


def load_demo(
    actor: Actor, configuration: ConfigurationService, casm: CasmService, wallets: WalletService
) -> bool:
    """Load the demo data unless its service provider already exists; True when loaded."""
    existing = {r["code"] for r in configuration.list_records(actor, ConfigKind.SERVICE_PROVIDER)}
    if DEMO_PROVIDER in existing:
        return False
    for kind, payload in DEMO_CONFIG:
        configuration.create(actor, kind, payload)
    for name, msisdn, imsi in DEMO_SUBSCRIBERS:
        view = casm.create_subscriber(
            actor,
            SubscriberInput(
                subscriber_id=msisdn,
                profile="RES-SUB",
                resources=(ResourceInput("MSISDN", msisdn), ResourceInput("IMSI", imsi)),
                account=AccountInput(
                    customer=CustomerInput(name=name, service_provider=DEMO_PROVIDER)
                ),
                wallet=WalletInput(product_type="PREPAID-S"),
            ),
        )
        wallet_id = wallets.subscriber_wallets(actor, view.subscriber.id)[0].wallet.id
        wallets.top_up(actor, wallet_id, "CASH", DEMO_CASH_MINOR)
        wallets.top_up(actor, wallet_id, "DATA-MB", DEMO_FREE_DATA_OCTETS)
    return True
