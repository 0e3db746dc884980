"""Use cases of the offer catalogue (services, products, offers) and of subscriptions.

Each Balance / Recurrent Cost Control Balance service owns a balance type (code derived from
the service code) and one BALANCE_TYPE_CLASS row per listed charging class, carrying the
service's "include sub-classes" flag: the charging engine already walks the class tree and
consumes such scoped balances before the general cash balance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from ocs.core.casm import CasmLevel
from ocs.core.configuration import SPECS, ConfigKind, Record, validate_new
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.offers import (
    BalanceService,
    CreateBalanceAt,
    Offer,
    Product,
    Subscription,
    SubscriptionLevel,
    SubscriptionState,
    check_offer,
    check_product,
    check_service,
    class_row_code,
    parse_choice,
    service_payload,
    updated_service,
)
from ocs.core.security import Privilege
from ocs.core.states import EntityState
from ocs.core.wallets import WalletType
from ocs.service.actor import Actor, record_change
from ocs.service.ports import Clock, Store, UnitOfWork

SUBSCRIPTIONS_LIST_MAX = 500


@dataclass(frozen=True)
class SubscriptionInput:
    offer: str
    level: str
    entity_id: int
    # Subscriber level: the subscriber's primary wallet by default. Account and customer
    # level: required, a wallet (usually shared) linked to a subscriber of that entity.
    wallet_id: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None


class _CatalogueEntry(Protocol):
    """What the steps shared by services, products and offers read of an entry."""

    @property
    def code(self) -> str: ...

    @property
    def service_provider(self) -> str: ...


EntryT = TypeVar("EntryT", bound=_CatalogueEntry)


@dataclass(frozen=True)
class _CatalogueKind(Generic[EntryT]):
    """One kind of the catalogue: its names and the calls in which the kinds differ, so that
    create / update / get / list / delete are written once for services, products and offers."""

    noun: str  # names the kind in problems: "product 'P1' already exists"
    audit_entity: str
    check: Callable[[Mapping[str, object]], EntryT]  # a complete, valid entry from a payload
    updated: Callable[[EntryT, Mapping[str, object]], EntryT]  # after a partial update
    created_detail: Callable[[EntryT], Mapping[str, object]]  # audit detail of a creation
    check_refs: Callable[[UnitOfWork, Actor, EntryT], None]
    get: Callable[[UnitOfWork, str], EntryT | None]
    list_visible: Callable[[UnitOfWork, frozenset[str] | None], list[EntryT]]
    insert: Callable[[UnitOfWork, EntryT], None]  # with whatever the entry owns
    update: Callable[[UnitOfWork, EntryT], None]
    remove: Callable[[UnitOfWork, EntryT], None]  # refuses while the entry is in use


class OfferService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- services, products, offers (their differences are in _SERVICES, _PRODUCTS, _OFFERS) --

    def create_service(self, actor: Actor, payload: Mapping[str, object]) -> BalanceService:
        """A new service, with its own balance type and one class row per charging class."""
        return self._create(actor, _SERVICES, payload)

    def update_service(
        self, actor: Actor, code: str, payload: Mapping[str, object]
    ) -> BalanceService:
        """A partial update; the balance type and class rows follow the service."""
        return self._update(actor, _SERVICES, code, payload)

    def get_service(self, actor: Actor, code: str) -> BalanceService:
        """One service of a provider the actor may use."""
        return self._get(actor, _SERVICES, code)

    def list_services(self, actor: Actor) -> list[BalanceService]:
        """The services of the providers the actor may use."""
        return self._list(actor, _SERVICES)

    def delete_service(self, actor: Actor, code: str) -> None:
        """Delete a service no product lists and nothing was granted from, with its balance
        type and class rows."""
        self._delete(actor, _SERVICES, code)

    def create_product(self, actor: Actor, payload: Mapping[str, object]) -> Product:
        """A new product: services of its own service provider."""
        return self._create(actor, _PRODUCTS, payload)

    def update_product(self, actor: Actor, code: str, payload: Mapping[str, object]) -> Product:
        """A partial update; code and service provider stay."""
        return self._update(actor, _PRODUCTS, code, payload)

    def get_product(self, actor: Actor, code: str) -> Product:
        """One product of a provider the actor may use."""
        return self._get(actor, _PRODUCTS, code)

    def list_products(self, actor: Actor) -> list[Product]:
        """The products of the providers the actor may use."""
        return self._list(actor, _PRODUCTS)

    def delete_product(self, actor: Actor, code: str) -> None:
        """Delete a product no offer lists."""
        self._delete(actor, _PRODUCTS, code)

    def create_offer(self, actor: Actor, payload: Mapping[str, object]) -> Offer:
        """A new offer: products of its own service provider, with a grant priority."""
        return self._create(actor, _OFFERS, payload)

    def update_offer(self, actor: Actor, code: str, payload: Mapping[str, object]) -> Offer:
        """A partial update; code and service provider stay."""
        return self._update(actor, _OFFERS, code, payload)

    def get_offer(self, actor: Actor, code: str) -> Offer:
        """One offer of a provider the actor may use."""
        return self._get(actor, _OFFERS, code)

    def list_offers(self, actor: Actor) -> list[Offer]:
        """The offers of the providers the actor may use."""
        return self._list(actor, _OFFERS)

    def delete_offer(self, actor: Actor, code: str) -> None:
        """Delete an offer nobody subscribed to."""
        self._delete(actor, _OFFERS, code)

    def _create(
        self, actor: Actor, kind: _CatalogueKind[EntryT], payload: Mapping[str, object]
    ) -> EntryT:
        actor.require(Privilege.CREATE_DELETE)
        entry = kind.check(payload)
        with self.store.transaction() as uow:
            if kind.get(uow, entry.code) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE, f"{kind.noun} {entry.code!r} already exists", "code"
                )
            kind.check_refs(uow, actor, entry)
            kind.insert(uow, entry)
            self._audit(uow, actor, "create", kind.audit_entity, entry.code,
                        kind.created_detail(entry))  # fmt: skip
        return entry

    def _update(
        self,
        actor: Actor,
        kind: _CatalogueKind[EntryT],
        code: str,
        payload: Mapping[str, object],
    ) -> EntryT:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            entry = kind.updated(_visible(uow, actor, kind, code), payload)
            kind.check_refs(uow, actor, entry)
            kind.update(uow, entry)
            self._audit(uow, actor, "update", kind.audit_entity, code, dict(payload))
        return entry

    def _get(self, actor: Actor, kind: _CatalogueKind[EntryT], code: str) -> EntryT:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _visible(uow, actor, kind, code)

    def _list(self, actor: Actor, kind: _CatalogueKind[EntryT]) -> list[EntryT]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return kind.list_visible(uow, actor.service_providers)

    def _delete(self, actor: Actor, kind: _CatalogueKind[EntryT], code: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            kind.remove(uow, _visible(uow, actor, kind, code))
            self._audit(uow, actor, "delete", kind.audit_entity, code, {})

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, actor: Actor, inp: SubscriptionInput) -> Subscription:
        actor.require(Privilege.MODIFY)
        level = parse_choice(SubscriptionLevel, inp.level, "level")
        with self.store.transaction() as uow:
            now = self.clock.now()
            offer = uow.offers.get_offer(inp.offer)
            if offer is None or not actor.may_use_provider(offer.service_provider):
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE, f"offer {inp.offer!r} does not exist", "offer"
                )
            provider, state, account_id = _entity(uow, level, inp.entity_id)
            if provider != offer.service_provider:
                raise invalid("offer", f"offer {offer.code!r} belongs to another service provider")
            if state is EntityState.DEACTIVATED:
                raise DomainError(
                    ProblemKind.NOT_ALLOWED_IN_STATE,
                    f"a deactivated {level.value} takes no new subscriptions",
                    "entity_id",
                )
            _check_billing_cycle(uow, offer, account_id)
            wallet_id = _subscription_wallet(uow, level, inp.entity_id, inp.wallet_id)
            start_at = inp.start_at or now
            for name, value in (("start_at", inp.start_at), ("end_at", inp.end_at)):
                if value is not None and value.tzinfo is None:
                    raise invalid(name, f"{name} must carry a time zone")
            if start_at < now:
                raise invalid("start_at", "start_at must not be in the past")
            if inp.end_at is not None and inp.end_at <= start_at:
                raise invalid("end_at", "end_at must be after start_at")
            subscription = Subscription(
                id=0,
                offer=offer.code,
                level=level,
                entity_id=inp.entity_id,
                service_provider=provider,
                wallet_id=wallet_id,
                start_at=start_at,
                end_at=inp.end_at,
                state=SubscriptionState.ACTIVE,
                created_at=now,
            )
            subscription = replace(subscription, id=uow.offers.insert_subscription(subscription))
            detail = {"offer": offer.code, "level": level.value, "entity_id": inp.entity_id,
                      "wallet_id": wallet_id}  # fmt: skip
            self._audit(uow, actor, "create", "subscription", subscription.id, detail)
            return subscription

    def get_subscription(self, actor: Actor, subscription_id: int) -> Subscription:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return self._subscription(uow, actor, subscription_id)

    def subscriptions_of_subscriber(self, actor: Actor, subscriber_id: int) -> list[Subscription]:
        """The subscriber's own subscriptions and those of its account and customer."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = uow.casm.get_subscriber(subscriber_id)
            if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
                raise not_found("subscriber", subscriber_id)
            account = uow.casm.get_account(subscriber.account_id)
            assert account is not None
            entities = [
                (SubscriptionLevel.SUBSCRIBER, subscriber.id),
                (SubscriptionLevel.ACCOUNT, account.id),
                (SubscriptionLevel.CUSTOMER, account.customer_id),
            ]
            return uow.offers.subscriptions_of(entities)[:SUBSCRIPTIONS_LIST_MAX]

    def end_subscription(
        self, actor: Actor, subscription_id: int, end_at: datetime | None = None
    ) -> Subscription:
        """End now (no more grants; granted balances stay until they expire) or at a future
        time: periods starting at or after end_at are not granted."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            now = self.clock.now()
            current = self._subscription(uow, actor, subscription_id)
            _require_active(current)
            end = end_at or now
            if end.tzinfo is None:
                raise invalid("end_at", "end_at must carry a time zone")
            if end < now:
                raise invalid("end_at", "end_at must not be in the past")
            ended = replace(current, end_at=end)
            if end <= now:
                ended = replace(ended, state=SubscriptionState.ENDED, ended_at=now)
            uow.offers.update_subscription(ended)
            self._audit(uow, actor, "end", "subscription", subscription_id, {"end_at": end})
            return ended

    def cancel_subscription(self, actor: Actor, subscription_id: int) -> Subscription:
        """Cancel at once; what was granted stays until it expires."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            now = self.clock.now()
            current = self._subscription(uow, actor, subscription_id)
            _require_active(current)
            cancelled = replace(
                current, state=SubscriptionState.CANCELLED, end_at=now, ended_at=now
            )
            uow.offers.update_subscription(cancelled)
            self._audit(uow, actor, "cancel", "subscription", subscription_id, {})
            return cancelled

    def _subscription(self, uow: UnitOfWork, actor: Actor, subscription_id: int) -> Subscription:
        found = uow.offers.get_subscription(subscription_id)
        if found is None or not actor.may_use_provider(found.service_provider):
            raise not_found("subscription", subscription_id)
        return found

    def _audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: str,
        entity: str,
        key: object,
        detail: Mapping[str, object],
    ) -> None:
        record_change(uow, actor, self.clock.now(), action, entity, key, detail)


def current_payload(entity: Product | Offer) -> dict[str, object]:
    base: dict[str, object] = {
        "code": entity.code,
        "name": entity.name,
        "description": entity.description,
        "service_provider": entity.service_provider,
    }
    if isinstance(entity, Product):
        base["services"] = list(entity.services)
    else:
        base["priority"] = entity.priority
        base["products"] = list(entity.products)
    return base


def _merged(current: dict[str, object], payload: Mapping[str, object]) -> dict[str, object]:
    for name in ("code", "service_provider"):
        if name in payload and payload[name] != current[name]:
            raise DomainError(
                ProblemKind.IMMUTABLE_FIELD, f"{name} cannot be changed after creation", name
            )
    return {**current, **payload}


def _provider(uow: UnitOfWork, actor: Actor, provider: str) -> None:
    if uow.config.get(ConfigKind.SERVICE_PROVIDER, provider) is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"service provider {provider!r} does not exist",
            "service_provider",
        )
    actor.require_provider(provider)


def _balance_type_record(service: BalanceService) -> Record:
    payload: dict[str, object] = {
        "code": service.balance_type,
        "name": service.name,
        "description": f"Granted by service {service.code}",
        "unit": service.balance_unit.value,
        "currency": service.currency,
        "category": service.category.value,
    }
    return validate_new(SPECS[ConfigKind.BALANCE_TYPE], payload)


def _write_class_rows(uow: UnitOfWork, service: BalanceService) -> None:
    """One BALANCE_TYPE_CLASS row per charging class, replacing the previous set."""
    kind = ConfigKind.BALANCE_TYPE_CLASS
    for code in uow.config.codes_where(kind, "balance_type", service.balance_type):
        uow.config.delete(kind, code)
    for i, charging_class in enumerate(service.charging_classes):
        record = validate_new(
            SPECS[kind],
            {
                "code": class_row_code(service.code, i),
                "name": f"{service.code} on {charging_class}"[:100],
                "balance_type": service.balance_type,
                "charging_class": charging_class,
                "include_sub_classes": service.include_sub_classes,
            },
        )
        uow.config.insert(kind, record)


def _visible(uow: UnitOfWork, actor: Actor, kind: _CatalogueKind[EntryT], code: str) -> EntryT:
    """The entry, when it exists under a provider the actor may use (else: not found)."""
    entry = kind.get(uow, code)
    if entry is None or not actor.may_use_provider(entry.service_provider):
        raise not_found(kind.noun, code)
    return entry


def _check_members(
    uow: UnitOfWork,
    owner: _CatalogueEntry,
    members: _CatalogueKind[EntryT],
    codes: tuple[str, ...],
    field: str,
) -> None:
    """Each listed member exists under the owner's own service provider."""
    for i, code in enumerate(codes):
        member = members.get(uow, code)
        if member is None or member.service_provider != owner.service_provider:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"{members.noun} {code!r} does not exist for {owner.service_provider}",
                f"{field}[{i}]",
            )


def _check_service_refs(uow: UnitOfWork, actor: Actor, service: BalanceService) -> None:
    _provider(uow, actor, service.service_provider)
    currency = service.currency
    if currency is not None and uow.config.get(ConfigKind.CURRENCY, currency) is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"currency {currency!r} does not exist", "currency"
        )
    for i, code in enumerate(service.charging_classes):
        if uow.config.get(ConfigKind.CHARGING_CLASS, code) is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"charging class {code!r} does not exist",
                f"charging_classes[{i}]",
            )


def _insert_service(uow: UnitOfWork, service: BalanceService) -> None:
    if uow.config.get(ConfigKind.BALANCE_TYPE, service.balance_type) is not None:
        raise DomainError(
            ProblemKind.CONFLICT,
            f"balance type {service.balance_type!r} exists already; choose another code",
            "code",
        )
    uow.config.insert(ConfigKind.BALANCE_TYPE, _balance_type_record(service))
    _write_class_rows(uow, service)
    uow.offers.insert_service(service)


def _update_service(uow: UnitOfWork, service: BalanceService) -> None:
    record = dict(uow.config.get(ConfigKind.BALANCE_TYPE, service.balance_type) or {})
    record.update(name=service.name[:100], description=service.description)
    uow.config.update(ConfigKind.BALANCE_TYPE, record)
    _write_class_rows(uow, service)
    uow.offers.update_service(service)


def _remove_service(uow: UnitOfWork, service: BalanceService) -> None:
    code = service.code
    products = uow.offers.products_with_service(code)
    if products:
        raise DomainError(
            ProblemKind.IN_USE, f"service {code!r} is part of product {products[0]!r}"
        )
    if uow.offers.count_grants_of_service(code):
        raise DomainError(ProblemKind.IN_USE, f"service {code!r} has granted balances; keep it")
    for row in uow.config.codes_where(
        ConfigKind.BALANCE_TYPE_CLASS, "balance_type", service.balance_type
    ):
        uow.config.delete(ConfigKind.BALANCE_TYPE_CLASS, row)
    uow.offers.delete_service(code)
    user = uow.config.referenced_by(ConfigKind.BALANCE_TYPE, service.balance_type)
    if user is not None:
        raise DomainError(
            ProblemKind.IN_USE,
            f"balance type {service.balance_type!r} of service {code!r} is still used by {user}",
        )
    uow.config.delete(ConfigKind.BALANCE_TYPE, service.balance_type)


def _check_product_refs(uow: UnitOfWork, actor: Actor, product: Product) -> None:
    _provider(uow, actor, product.service_provider)
    _check_members(uow, product, _SERVICES, product.services, "services")


def _remove_product(uow: UnitOfWork, product: Product) -> None:
    offers = uow.offers.offers_with_product(product.code)
    if offers:
        raise DomainError(
            ProblemKind.IN_USE, f"product {product.code!r} is part of offer {offers[0]!r}"
        )
    uow.offers.delete_product(product.code)


def _check_offer_refs(uow: UnitOfWork, actor: Actor, offer: Offer) -> None:
    _provider(uow, actor, offer.service_provider)
    _check_members(uow, offer, _PRODUCTS, offer.products, "products")


def _remove_offer(uow: UnitOfWork, offer: Offer) -> None:
    if uow.offers.count_subscriptions_of_offer(offer.code):
        raise DomainError(ProblemKind.IN_USE, f"offer {offer.code!r} has subscriptions")
    uow.offers.delete_offer(offer.code)


_SERVICES = _CatalogueKind[BalanceService](
    noun="service",
    audit_entity="offer-service",
    check=check_service,
    updated=updated_service,
    created_detail=service_payload,
    check_refs=_check_service_refs,
    get=lambda uow, code: uow.offers.get_service(code),
    list_visible=lambda uow, providers: uow.offers.list_services(providers),
    insert=_insert_service,
    update=_update_service,
    remove=_remove_service,
)
_PRODUCTS = _CatalogueKind[Product](
    noun="product",
    audit_entity="offer-product",
    check=check_product,
    updated=lambda current, changes: check_product(_merged(current_payload(current), changes)),
    created_detail=lambda product: {"services": list(product.services)},
    check_refs=_check_product_refs,
    get=lambda uow, code: uow.offers.get_product(code),
    list_visible=lambda uow, providers: uow.offers.list_products(providers),
    insert=lambda uow, product: uow.offers.insert_product(product),
    update=lambda uow, product: uow.offers.update_product(product),
    remove=_remove_product,
)
_OFFERS = _CatalogueKind[Offer](
    noun="offer",
    audit_entity="offer",
    check=check_offer,
    updated=lambda current, changes: check_offer(_merged(current_payload(current), changes)),
    created_detail=lambda offer: {"products": list(offer.products), "priority": offer.priority},
    check_refs=_check_offer_refs,
    get=lambda uow, code: uow.offers.get_offer(code),
    list_visible=lambda uow, providers: uow.offers.list_offers(providers),
    insert=lambda uow, offer: uow.offers.insert_offer(offer),
    update=lambda uow, offer: uow.offers.update_offer(offer),
    remove=_remove_offer,
)


def _entity(
    uow: UnitOfWork, level: SubscriptionLevel, entity_id: int
) -> tuple[str, EntityState, int | None]:
    """(service provider, state, account id or None) of the subscribed entity."""
    if level is SubscriptionLevel.SUBSCRIBER:
        subscriber = uow.casm.get_subscriber(entity_id)
        if subscriber is not None:
            return subscriber.service_provider, subscriber.state, subscriber.account_id
    elif level is SubscriptionLevel.ACCOUNT:
        account = uow.casm.get_account(entity_id)
        if account is not None:
            customer = uow.casm.get_customer(account.customer_id)
            assert customer is not None
            return customer.service_provider, account.state, account.id
    else:
        customer = uow.casm.get_customer(entity_id)
        if customer is not None:
            return customer.service_provider, customer.state, None
    raise DomainError(
        ProblemKind.UNKNOWN_REFERENCE, f"{level.value} {entity_id} does not exist", "entity_id"
    )


def _check_billing_cycle(uow: UnitOfWork, offer: Offer, account_id: int | None) -> None:
    for product_code in offer.products:
        product = uow.offers.get_product(product_code)
        assert product is not None
        for service_code in product.services:
            service = uow.offers.get_service(service_code)
            assert service is not None
            r = service.recurrence
            if r is None or r.create_balance_at is not CreateBalanceAt.BILLING_CYCLE:
                continue
            account = None if account_id is None else uow.casm.get_account(account_id)
            if account is None or account.billing_cycle is None:
                raise invalid(
                    "offer",
                    f"service {service_code!r} follows the billing cycle; the subscribed "
                    "account has none (customer-level subscriptions cannot use it)",
                )


def subscribers_under(uow: UnitOfWork, level: SubscriptionLevel, entity_id: int) -> set[int]:
    if level is SubscriptionLevel.SUBSCRIBER:
        return {entity_id}
    if level is SubscriptionLevel.ACCOUNT:
        return {s.id for s in uow.casm.list_subscribers(entity_id)}
    return {
        s.id
        for account in uow.casm.list_accounts(entity_id)
        for s in uow.casm.list_subscribers(account.id)
    }


def _subscription_wallet(
    uow: UnitOfWork, level: SubscriptionLevel, entity_id: int, wallet_id: int | None
) -> int:
    if level is SubscriptionLevel.SUBSCRIBER and wallet_id is None:
        for link in uow.wallets.links_of_subscriber(entity_id):
            if link.wallet_type is WalletType.PRIMARY:
                return link.wallet_id
        raise DomainError(
            ProblemKind.MISSING_FIELD, f"subscriber {entity_id} has no primary wallet", "wallet_id"
        )
    if wallet_id is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            f"wallet_id is required for a {level.value}-level subscription (a shared wallet)",
            "wallet_id",
        )
    holders = {link.subscriber_id for link in uow.wallets.links_of_wallet(wallet_id)}
    if not holders & subscribers_under(uow, level, entity_id):
        raise invalid(
            "wallet_id", f"wallet {wallet_id} is not linked to a subscriber of this {level.value}"
        )
    return wallet_id


def casm_level(level: SubscriptionLevel) -> CasmLevel:
    return CasmLevel(level.value)


def _require_active(subscription: Subscription) -> None:
    if subscription.state is not SubscriptionState.ACTIVE:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"subscription {subscription.id} is {subscription.state.value}",
            "state",
        )
