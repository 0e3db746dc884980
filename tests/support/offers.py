"""An offer catalogue for the grant tests: charging classes, services, products and offers."""

from __future__ import annotations

from collections.abc import Mapping

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.offers import Offer
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER

CLASSES: tuple[dict[str, object], ...] = (
    {"code": "ALL", "name": "All"},
    {"code": "DATA", "name": "Data", "parent": "ALL"},
    {"code": "VOICE", "name": "Voice", "parent": "ALL"},
    {"code": "VOICE-NAT", "name": "National voice", "parent": "VOICE"},
)


def load_classes(services: Services, actor: Actor) -> None:
    for payload in CLASSES:
        services.configuration.create(actor, ConfigKind.CHARGING_CLASS, payload)


def recurrent(code: str, **fields: object) -> dict[str, object]:
    """A monthly recurrent voice balance of 100 minutes, overridable field by field."""
    payload: dict[str, object] = {
        "code": code,
        "name": f"Service {code}",
        "service_provider": PROVIDER,
        "kind": "RECURRENT_COST_CONTROL_BALANCE",
        "unit": "MINUTE",
        "granted": 100,
        "charging_classes": ["VOICE"],
        "create_balance_at": "CALENDAR",
        "period_unit": "MONTH",
        "every": 1,
    }
    payload.update(fields)
    return payload


def offer_with(
    services: Services, actor: Actor, service: Mapping[str, object], code: str | None = None
) -> Offer:
    """One service in one product in one offer, all named after the service."""
    created = services.offers.create_service(actor, service)
    name = code or created.code
    services.offers.create_product(
        actor,
        {"code": f"P-{name}", "name": f"Product {name}", "service_provider": PROVIDER,
         "services": [created.code]},
    )  # fmt: skip
    return services.offers.create_offer(
        actor,
        {"code": f"O-{name}", "name": f"Offer {name}", "service_provider": PROVIDER,
         "products": [f"P-{name}"]},
    )  # fmt: skip
