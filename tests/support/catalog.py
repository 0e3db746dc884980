"""A small catalogue that CASM tests build on (loaded through the real service layer)."""

from __future__ import annotations

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.service.actor import Actor

PROVIDER = "SP1"
OTHER_PROVIDER = "SP2"

BASICS: tuple[tuple[ConfigKind, dict[str, object]], ...] = (
    (ConfigKind.SERVICE_PROVIDER, {"code": PROVIDER, "name": "Provider one"}),
    (ConfigKind.SERVICE_PROVIDER, {"code": OTHER_PROVIDER, "name": "Provider two"}),
    (ConfigKind.CURRENCY, {"code": "EUR", "name": "Euro", "scale": 2}),
    (ConfigKind.ACCOUNT_TYPE, {"code": "PAYER", "name": "Payer", "payment_responsible": True}),
    (ConfigKind.ACCOUNT_TYPE, {"code": "TECH", "name": "Technical"}),
    (ConfigKind.RESOURCE_TYPE, {"code": "MSISDN", "name": "MSISDN", "primary": True}),
    (ConfigKind.RESOURCE_TYPE, {"code": "IMSI", "name": "IMSI"}),
    (ConfigKind.STATE_REASON, {"code": "NEW", "name": "New", "state": "ACTIVE"}),
    (ConfigKind.STATE_REASON, {"code": "PREP", "name": "Prepared", "state": "INACTIVE"}),
    (ConfigKind.STATE_REASON, {"code": "DEBT", "name": "Debt", "state": "SUSPENDED",
                               "charged": True}),
    (ConfigKind.STATE_REASON, {"code": "CHURN", "name": "Churn", "state": "DEACTIVATED"}),
    (ConfigKind.CUSTOMER_SEGMENT, {"code": "RES", "name": "Residential"}),
    (ConfigKind.ACCOUNT_SEGMENT, {"code": "STD", "name": "Standard"}),
    (ConfigKind.SUBSCRIBER_SEGMENT, {"code": "MOB", "name": "Mobile"}),
    (ConfigKind.BILLING_CYCLE, {"code": "M1", "name": "Monthly", "duration": 1,
                                "duration_unit": "MONTH", "billing_day": 1}),
    (ConfigKind.CUSTOMER_PROFILE, {"code": "CP", "name": "Customer profile",
                                   "customer_segment": "RES", "customer_state": "ACTIVE",
                                   "customer_state_reason": "NEW"}),
    (ConfigKind.ACCOUNT_PROFILE, {"code": "AP", "name": "Account profile",
                                  "account_type": "PAYER", "account_segment": "STD",
                                  "billing_cycle": "M1", "payment_responsible": True,
                                  "currency": "EUR", "account_state": "ACTIVE",
                                  "account_state_reason": "NEW", "customer_profile": "CP"}),
    (ConfigKind.SUBSCRIBER_PROFILE, {"code": "SP", "name": "Subscriber profile",
                                     "subscriber_segment": "MOB", "subscriber_state": "INACTIVE",
                                     "subscriber_state_reason": "PREP",
                                     "account_profile": "AP"}),
)  # fmt: skip


def load_basics(services: Services, actor: Actor) -> None:
    for kind, payload in BASICS:
        services.configuration.create(actor, kind, payload)
