"""Subscribers and tariff plans the subscriber feature tests build on."""

from __future__ import annotations

import itertools

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, SubscriberInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER, load_basics

TARIFF_PLANS = ("CUG_FREE", "CUG_CHEAP")
_customer_numbers = itertools.count(1)
PRODUCT_TYPE = "GOLD"


def load_feature_basics(services: Services, admin: Actor) -> None:
    load_basics(services, admin)
    for code in TARIFF_PLANS:
        services.configuration.create(
            admin, ConfigKind.TARIFF_PLAN, {"code": code, "name": code, "currency": "EUR"}
        )
    services.configuration.create(
        admin,
        ConfigKind.PRODUCT_TYPE,
        {"code": PRODUCT_TYPE, "name": "Gold", "service_provider": PROVIDER},
    )


def add_subscriber(services: Services, admin: Actor, msisdn: str, provider: str = PROVIDER) -> int:
    customer = services.casm.create_customer(
        admin, CustomerInput(name=f"Customer {next(_customer_numbers)}", service_provider=provider)
    )
    account = services.casm.create_account(
        admin, AccountInput(customer_id=customer.id, account_type="PAYER")
    )
    view = services.casm.create_subscriber(
        admin, SubscriberInput(subscriber_id=msisdn, account_id=account.id)
    )
    return view.subscriber.id


def operator(name: str, role: Role, providers: frozenset[str] | None = None) -> Actor:
    return Actor(name, ROLE_PRIVILEGES[role], providers)


def refused(call: object, *args: object, **kwargs: object) -> DomainError:
    """The DomainError a call raises (the test fails if it raises none)."""
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except DomainError as error:
        return error
    raise AssertionError("the call was expected to be refused")


OTHER_SP_OPERATOR = operator("other", Role.OPERATOR, frozenset({OTHER_PROVIDER}))
