"""Use cases for customers, accounts, subscribers, resources and their states (CASM)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from ocs.core.casm import (
    SEARCH_ROWS_MAX,
    Account,
    CasmLevel,
    Customer,
    Resource,
    StateChange,
    StateChangeStatus,
    Subscriber,
    SubscriberSearchField,
    check_customer_name,
    check_language,
    check_subscriber_id,
    customer_name_key,
)
from ocs.core.configuration import ConfigKind, Record
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.security import Privilege
from ocs.core.states import EntityState, check_transition, parse_state
from ocs.core.subscriber_search import SubscriberSearchResult, subscriber_query
from ocs.core.wallets import WalletType
from ocs.service.actor import Actor, record_change
from ocs.service.configuration import check_reason_state
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallet_ledger import (
    Ledger,
    WalletInput,
    actor_origin,
    create_wallet,
    release_subscriber_wallets,
)

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class CustomerInput:
    name: str
    service_provider: str | None = None
    description: str | None = None
    reference: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class AccountInput:
    customer_id: int | None = None
    name: str | None = None
    account_type: str | None = None
    payment_responsible: bool | None = None
    parent_account_id: int | None = None
    billing_cycle: str | None = None
    currency: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = None
    # Used only when the account profile creates the superior customer.
    customer: CustomerInput | None = None


@dataclass(frozen=True)
class ResourceInput:
    resource_type: str
    value: str


@dataclass(frozen=True)
class SubscriberInput:
    subscriber_id: str
    account_id: int | None = None
    card_number: str | None = None
    language: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = None
    resources: tuple[ResourceInput, ...] = ()
    # Used only when the subscriber profile creates the superior account (and customer).
    account: AccountInput | None = None
    # The primary wallet, created in the same transaction.
    wallet: WalletInput | None = None


@dataclass(frozen=True)
class SubscriberView:
    subscriber: Subscriber
    resources: list[Resource] = field(default_factory=list)


@dataclass(frozen=True)
class CasmCounts:
    customers: int
    accounts: int
    subscribers: int


class CasmService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- customers ---------------------------------------------------------------------------

    def create_customer(self, actor: Actor, inp: CustomerInput) -> Customer:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            return self._create_customer(uow, actor, inp)

    def _create_customer(self, uow: UnitOfWork, actor: Actor, inp: CustomerInput) -> Customer:
        if inp.profile is not None:
            profile = _config(uow, ConfigKind.CUSTOMER_PROFILE, inp.profile, "profile")
            inp = replace(
                inp,
                segment=inp.segment or _str(profile["customer_segment"]),
                state=inp.state or _str(profile["customer_state"]),
                state_reason=inp.state_reason or _str(profile["customer_state_reason"]),
            )
        provider = self._provider(uow, actor, inp.service_provider)
        name = check_customer_name(inp.name)
        key = customer_name_key(name)
        _check_unique_customer_name(uow, provider, key, None)
        _ref(uow, ConfigKind.CUSTOMER_SEGMENT, inp.segment, "segment")
        state = self._initial_state(uow, inp.state, inp.state_reason)
        customer = Customer(
            id=0,
            service_provider=provider,
            name=name,
            description=_text(inp.description, "description", 500),
            reference=_text(inp.reference, "reference", 100),
            segment=inp.segment,
            state=state,
            state_reason=inp.state_reason,
            created_at=self.clock.now(),
        )
        customer = replace(customer, id=uow.casm.insert_customer(customer, key))
        self._audit(uow, actor, "create", "customer", customer.id, asdict(customer))
        return customer

    def get_customer(self, actor: Actor, customer_id: int) -> Customer:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _customer(uow, actor, customer_id)

    def search_customers(
        self, actor: Actor, name_prefix: str = "", service_provider: str | None = None
    ) -> list[Customer]:
        """At most 100 customers whose name starts with the prefix (case/specials ignored)."""
        actor.require(Privilege.READ)
        providers = actor.service_providers
        if service_provider is not None:
            actor.require_provider(service_provider)
            providers = frozenset({service_provider})
        with self.store.transaction() as uow:
            return uow.casm.search_customers(
                providers, customer_name_key(name_prefix), SEARCH_ROWS_MAX
            )

    def update_customer(
        self,
        actor: Actor,
        customer_id: int,
        name: str | None = None,
        description: str | None = None,
        reference: str | None = None,
        segment: str | None = None,
    ) -> Customer:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = _customer(uow, actor, customer_id)
            updated = current
            if name is not None:
                updated = replace(updated, name=check_customer_name(name))
            if description is not None:
                updated = replace(updated, description=_text(description, "description", 500))
            if reference is not None:
                updated = replace(updated, reference=_text(reference, "reference", 100))
            if segment is not None:
                _ref(uow, ConfigKind.CUSTOMER_SEGMENT, segment, "segment")
                updated = replace(updated, segment=segment)
            key = customer_name_key(updated.name)
            _check_unique_customer_name(uow, updated.service_provider, key, customer_id)
            uow.casm.update_customer(updated, key)
            self._audit(uow, actor, "update", "customer", customer_id, _diff(current, updated))
            return updated

    def delete_customer(self, actor: Actor, customer_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            _customer(uow, actor, customer_id)
            if uow.casm.count_children(CasmLevel.CUSTOMER, customer_id):
                raise DomainError(
                    ProblemKind.IN_USE,
                    f"customer {customer_id} still has accounts; delete them first",
                )
            uow.casm.delete_customer(customer_id)
            self._audit(uow, actor, "delete", "customer", customer_id, {})

    # -- accounts ----------------------------------------------------------------------------

    def create_account(self, actor: Actor, inp: AccountInput) -> Account:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            return self._create_account(uow, actor, inp)

    def _create_account(self, uow: UnitOfWork, actor: Actor, inp: AccountInput) -> Account:
        customer_profile: str | None = None
        if inp.profile is not None:
            profile = _config(uow, ConfigKind.ACCOUNT_PROFILE, inp.profile, "profile")
            inp = replace(
                inp,
                account_type=inp.account_type or _str(profile["account_type"]),
                segment=inp.segment or _str(profile["account_segment"]),
                billing_cycle=inp.billing_cycle or _str(profile["billing_cycle"]),
                currency=inp.currency or _str(profile["currency"]),
                payment_responsible=(
                    inp.payment_responsible
                    if inp.payment_responsible is not None
                    else bool(profile["payment_responsible"])
                ),
                state=inp.state or _str(profile["account_state"]),
                state_reason=inp.state_reason or _str(profile["account_state_reason"]),
            )
            customer_profile = _str(profile["customer_profile"])
        customer = self._superior_customer(uow, actor, inp, customer_profile)
        if inp.account_type is None:
            raise DomainError(ProblemKind.MISSING_FIELD, "account_type is required", "account_type")
        account_type = _config(uow, ConfigKind.ACCOUNT_TYPE, inp.account_type, "account_type")
        _ref(uow, ConfigKind.ACCOUNT_SEGMENT, inp.segment, "segment")
        _ref(uow, ConfigKind.BILLING_CYCLE, inp.billing_cycle, "billing_cycle")
        _ref(uow, ConfigKind.CURRENCY, inp.currency, "currency")
        if inp.parent_account_id is not None:
            parent = uow.casm.get_account(inp.parent_account_id)
            if parent is None or parent.customer_id != customer.id:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"parent account {inp.parent_account_id} is not an account of customer "
                    f"{customer.id}",
                    "parent_account_id",
                )
        state = self._initial_state(uow, inp.state, inp.state_reason)
        payment_responsible = inp.payment_responsible
        if payment_responsible is None:
            payment_responsible = bool(account_type["payment_responsible"])
        account = Account(
            id=0,
            customer_id=customer.id,
            name=_text(inp.name, "name", 100) or customer.name,
            account_type=inp.account_type,
            payment_responsible=payment_responsible,
            parent_account_id=inp.parent_account_id,
            billing_cycle=inp.billing_cycle,
            currency=inp.currency,
            segment=inp.segment,
            state=state,
            state_reason=inp.state_reason,
            created_at=self.clock.now(),
        )
        account = replace(account, id=uow.casm.insert_account(account))
        self._audit(uow, actor, "create", "account", account.id, asdict(account))
        return account

    def _superior_customer(
        self, uow: UnitOfWork, actor: Actor, inp: AccountInput, customer_profile: str | None
    ) -> Customer:
        if inp.customer_id is not None:
            customer = _customer(uow, actor, inp.customer_id, "customer_id")
            _require_not_deactivated(customer.state, f"customer {customer.id}", "customer_id")
            return customer
        if customer_profile is None or inp.customer is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                "customer_id is required (or an account profile with a customer profile, "
                "plus the new customer's details)",
                "customer_id",
            )
        return self._create_customer(uow, actor, replace(inp.customer, profile=customer_profile))

    def get_account(self, actor: Actor, account_id: int) -> Account:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _account(uow, actor, account_id)

    def list_accounts(self, actor: Actor, customer_id: int) -> list[Account]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _customer(uow, actor, customer_id)
            return uow.casm.list_accounts(customer_id)

    def update_account(
        self,
        actor: Actor,
        account_id: int,
        name: str | None = None,
        billing_cycle: str | None = None,
        currency: str | None = None,
        segment: str | None = None,
    ) -> Account:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = _account(uow, actor, account_id)
            _ref(uow, ConfigKind.BILLING_CYCLE, billing_cycle, "billing_cycle")
            _ref(uow, ConfigKind.CURRENCY, currency, "currency")
            _ref(uow, ConfigKind.ACCOUNT_SEGMENT, segment, "segment")
            updated = replace(
                current,
                name=_text(name, "name", 100) or current.name,
                billing_cycle=billing_cycle or current.billing_cycle,
                currency=currency or current.currency,
                segment=segment or current.segment,
            )
            uow.casm.update_account(updated)
            self._audit(uow, actor, "update", "account", account_id, _diff(current, updated))
            return updated

    def delete_account(self, actor: Actor, account_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            _account(uow, actor, account_id)
            if uow.casm.count_children(CasmLevel.ACCOUNT, account_id):
                raise DomainError(
                    ProblemKind.IN_USE,
                    f"account {account_id} still has subscribers or child accounts",
                )
            uow.casm.delete_account(account_id)
            self._audit(uow, actor, "delete", "account", account_id, {})

    # -- subscribers -------------------------------------------------------------------------

    def create_subscriber(self, actor: Actor, inp: SubscriberInput) -> SubscriberView:
        """Create a subscriber; a profile chain may create its account and customer too."""
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            account_profile: str | None = None
            if inp.profile is not None:
                profile = _config(uow, ConfigKind.SUBSCRIBER_PROFILE, inp.profile, "profile")
                inp = replace(
                    inp,
                    segment=inp.segment or _str(profile["subscriber_segment"]),
                    state=inp.state or _str(profile["subscriber_state"]),
                    state_reason=inp.state_reason or _str(profile["subscriber_state_reason"]),
                )
                account_profile = _str(profile["account_profile"])
            account = self._superior_account(uow, actor, inp, account_profile)
            customer = _customer(uow, actor, account.customer_id)
            provider = customer.service_provider
            subscriber_id = check_subscriber_id(inp.subscriber_id)
            card_number = check_subscriber_id(inp.card_number or subscriber_id, "card_number")
            _check_subscriber_unique(uow, provider, subscriber_id, card_number, None)
            _ref(uow, ConfigKind.SUBSCRIBER_SEGMENT, inp.segment, "segment")
            state = self._initial_state(uow, inp.state, inp.state_reason)
            subscriber = Subscriber(
                id=0,
                account_id=account.id,
                service_provider=provider,
                subscriber_id=subscriber_id,
                card_number=card_number,
                language=check_language(inp.language or DEFAULT_LANGUAGE),
                segment=inp.segment,
                state=state,
                state_reason=inp.state_reason,
                created_at=self.clock.now(),
            )
            subscriber = replace(subscriber, id=uow.casm.insert_subscriber(subscriber))
            self._audit(uow, actor, "create", "subscriber", subscriber.id, asdict(subscriber))
            resources = [
                self._add_resource(uow, actor, subscriber.id, r, f"resources[{i}]")
                for i, r in enumerate(inp.resources)
            ]
            if inp.wallet is not None:
                ledger = Ledger(uow, self.clock.now(), actor_origin(actor, subscriber.id))
                create_wallet(ledger, subscriber, WalletType.PRIMARY, inp.wallet, "wallet.")
            return SubscriberView(subscriber, resources)

    def _superior_account(
        self, uow: UnitOfWork, actor: Actor, inp: SubscriberInput, account_profile: str | None
    ) -> Account:
        if inp.account_id is not None:
            account = _account(uow, actor, inp.account_id, "account_id")
            _require_not_deactivated(account.state, f"account {account.id}", "account_id")
            return account
        if account_profile is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                "account_id is required (or a subscriber profile with an account profile)",
                "account_id",
            )
        account_inp = replace(inp.account or AccountInput(), profile=account_profile)
        return self._create_account(uow, actor, account_inp)

    def get_subscriber(self, actor: Actor, subscriber_id: int) -> SubscriberView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = _subscriber(uow, actor, subscriber_id)
            return SubscriberView(subscriber, uow.casm.list_resources(subscriber_id))

    def list_subscribers(self, actor: Actor, account_id: int) -> list[Subscriber]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _account(uow, actor, account_id)
            return uow.casm.list_subscribers(account_id)

    def search_subscribers(
        self,
        actor: Actor,
        service_provider: str,
        by: str,
        text: str,
        exact: bool = False,
    ) -> list[Subscriber]:
        """At most 100 subscribers of one service provider whose subscriber ID or card number
        equals the text (exact) or starts with it (prefix)."""
        actor.require(Privilege.READ)
        actor.require_provider(service_provider)
        try:
            column = SubscriberSearchField(by)
        except ValueError:
            choices = ", ".join(f.value for f in SubscriberSearchField)
            raise invalid("by", f"search by one of {choices}, not {by!r}") from None
        if column not in (SubscriberSearchField.SUBSCRIBER_ID, SubscriberSearchField.CARD_NUMBER):
            # The other fields reach subscribers through wallets and customers: one entry per
            # subscriber out of the wallet rows.
            found = self.search(actor, service_provider, {column.value: text}, exact)
            unique = {row.subscriber.id: row.subscriber for row in found.rows}
            return list(unique.values())
        with self.store.transaction() as uow:
            return uow.casm.search_subscribers(
                service_provider, column, text.strip(), exact, SEARCH_ROWS_MAX
            )

    def search(
        self,
        actor: Actor,
        service_provider: str,
        criteria: Mapping[str, str | None],
        exact: bool = False,
    ) -> SubscriberSearchResult:
        """Finding subscribers: text in exactly one of wallet_reference, card_number,
        subscriber_id, customer (name) or customer_id, matched exactly or as a prefix. One row
        per wallet with its type; at most 100 rows, and `truncated` says when more matched."""
        actor.require(Privilege.READ)
        actor.require_provider(service_provider)
        query = subscriber_query(criteria, exact)
        with self.store.transaction() as uow:
            rows = uow.casm.search_subscriber_wallets(service_provider, query, SEARCH_ROWS_MAX + 1)
        return SubscriberSearchResult(rows[:SEARCH_ROWS_MAX], len(rows) > SEARCH_ROWS_MAX)

    def counts(self, actor: Actor, service_provider: str | None = None) -> CasmCounts:
        """How many customers, accounts and subscribers the operator can see, optionally
        within one service provider."""
        actor.require(Privilege.READ)
        providers = actor.service_providers
        if service_provider is not None:
            actor.require_provider(service_provider)
            providers = frozenset({service_provider})
        with self.store.transaction() as uow:
            count = uow.casm.count_entities
            return CasmCounts(
                customers=count(CasmLevel.CUSTOMER, providers),
                accounts=count(CasmLevel.ACCOUNT, providers),
                subscribers=count(CasmLevel.SUBSCRIBER, providers),
            )

    def update_subscriber(
        self,
        actor: Actor,
        subscriber_id: int,
        subscriber_cli: str | None = None,
        card_number: str | None = None,
        language: str | None = None,
        segment: str | None = None,
    ) -> Subscriber:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = _subscriber(uow, actor, subscriber_id)
            _ref(uow, ConfigKind.SUBSCRIBER_SEGMENT, segment, "segment")
            updated = replace(
                current,
                subscriber_id=check_subscriber_id(subscriber_cli or current.subscriber_id),
                card_number=check_subscriber_id(card_number or current.card_number, "card_number"),
                language=check_language(language or current.language),
                segment=segment or current.segment,
            )
            _check_subscriber_unique(
                uow,
                current.service_provider,
                updated.subscriber_id,
                updated.card_number,
                current.id,
            )
            uow.casm.update_subscriber(updated)
            self._audit(uow, actor, "update", "subscriber", subscriber_id, _diff(current, updated))
            return updated

    def delete_subscriber(self, actor: Actor, subscriber_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            _subscriber(uow, actor, subscriber_id)
            ledger = Ledger(uow, self.clock.now(), actor_origin(actor, subscriber_id))
            release_subscriber_wallets(ledger, subscriber_id)
            uow.casm.delete_subscriber(subscriber_id)
            self._audit(uow, actor, "delete", "subscriber", subscriber_id, {})

    # -- resources ---------------------------------------------------------------------------

    def add_resource(self, actor: Actor, subscriber_id: int, inp: ResourceInput) -> Resource:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            _subscriber(uow, actor, subscriber_id)
            return self._add_resource(uow, actor, subscriber_id, inp, "")

    def _add_resource(
        self, uow: UnitOfWork, actor: Actor, subscriber_id: int, inp: ResourceInput, prefix: str
    ) -> Resource:
        where = f"{prefix}." if prefix else ""
        _config(uow, ConfigKind.RESOURCE_TYPE, inp.resource_type, f"{where}resource_type")
        value = inp.value.strip() if isinstance(inp.value, str) else ""
        if not value or len(value) > 128:
            raise invalid(f"{where}value", "resource value must be 1-128 characters")
        if uow.casm.find_resource(inp.resource_type, value):
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"{inp.resource_type} {value!r} already belongs to a subscriber",
                f"{where}value",
            )
        resource = Resource(0, subscriber_id, inp.resource_type, value)
        resource = replace(resource, id=uow.casm.insert_resource(resource))
        self._audit(uow, actor, "create", "resource", resource.id, asdict(resource))
        return resource

    def delete_resource(self, actor: Actor, subscriber_id: int, resource_id: int) -> None:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            _subscriber(uow, actor, subscriber_id)
            if resource_id not in {r.id for r in uow.casm.list_resources(subscriber_id)}:
                raise not_found("resource", resource_id)
            uow.casm.delete_resource(resource_id)
            self._audit(uow, actor, "delete", "resource", resource_id, {})

    def find_subscriber_by_resource(
        self, actor: Actor, value: str, resource_type: str | None = None
    ) -> SubscriberView:
        """The subscriber owning a resource value (IMSI, MSISDN, ...) of any or one type."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            hits = [
                r
                for r in uow.casm.find_resource(resource_type, value)
                if _visible_subscriber(uow, actor, r.subscriber_id) is not None
            ]
            if not hits:
                raise not_found("resource", value)
            if len({r.subscriber_id for r in hits}) > 1:
                types = ", ".join(sorted(r.resource_type for r in hits))
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"{value!r} is a resource of several subscribers ({types}); give the type",
                    "resource_type",
                )
            subscriber_id = hits[0].subscriber_id
            subscriber = _subscriber(uow, actor, subscriber_id)
            return SubscriberView(subscriber, uow.casm.list_resources(subscriber_id))

    # -- states ------------------------------------------------------------------------------

    def change_state(
        self,
        actor: Actor,
        level: CasmLevel,
        entity_id: int,
        state: str,
        state_reason: str | None,
        valid_from: datetime | None = None,
    ) -> StateChange:
        """Change state now, or record a pending change when valid_from is in the future."""
        actor.require(Privilege.MODIFY)
        target = parse_state(state)
        with self.store.transaction() as uow:
            current = _entity_state(uow, actor, level, entity_id)
            if state_reason is None:
                raise DomainError(
                    ProblemKind.MISSING_FIELD, "state_reason is required", "state_reason"
                )
            check_reason_state(
                uow, "state", "state_reason", {"state": target.value, "state_reason": state_reason}
            )
            check_transition(current, target)
            pending = [
                c
                for c in uow.casm.list_state_changes(level, entity_id)
                if c.status == StateChangeStatus.PENDING
            ]
            if pending:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"state change {pending[0].id} is already pending; confirm or cancel it first",
                )
            now = self.clock.now()
            effective = valid_from or now
            if effective.tzinfo is None:
                raise invalid("valid_from", "valid_from must carry a time zone")
            status = StateChangeStatus.PENDING if effective > now else StateChangeStatus.APPLIED
            change = StateChange(
                0, level, entity_id, target, state_reason, effective, status, actor.username
            )
            change = replace(change, id=uow.casm.insert_state_change(change))
            if status is StateChangeStatus.APPLIED:
                uow.casm.set_state(level, entity_id, target, state_reason)
            detail = {"state": target.value, "reason": state_reason, "status": status.value}
            self._audit(uow, actor, "state", level.value, entity_id, detail)
            return change

    def confirm_state_change(self, actor: Actor, change_id: int) -> StateChange:
        """Apply a pending state change now."""
        return self._resolve_pending(actor, change_id, StateChangeStatus.APPLIED)

    def cancel_state_change(self, actor: Actor, change_id: int) -> StateChange:
        return self._resolve_pending(actor, change_id, StateChangeStatus.CANCELLED)

    def list_state_changes(
        self, actor: Actor, level: CasmLevel, entity_id: int
    ) -> list[StateChange]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _entity_state(uow, actor, level, entity_id)
            return uow.casm.list_state_changes(level, entity_id)

    def _resolve_pending(
        self, actor: Actor, change_id: int, outcome: StateChangeStatus
    ) -> StateChange:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            change = uow.casm.get_state_change(change_id)
            if change is None:
                raise not_found("state change", change_id)
            current = _entity_state(uow, actor, change.level, change.entity_id)
            if change.status != StateChangeStatus.PENDING:
                raise DomainError(
                    ProblemKind.CONFLICT, f"state change {change_id} is already {change.status}"
                )
            if outcome is StateChangeStatus.APPLIED:
                check_transition(current, change.state)
                uow.casm.set_state(
                    change.level, change.entity_id, change.state, change.state_reason
                )
            uow.casm.set_state_change_status(change_id, outcome.value)
            detail = {"change": change_id, "status": outcome.value}
            self._audit(uow, actor, "state", change.level.value, change.entity_id, detail)
            return replace(change, status=outcome.value)

    # -- shared ------------------------------------------------------------------------------

    def _provider(self, uow: UnitOfWork, actor: Actor, provider: str | None) -> str:
        if provider is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD, "service_provider is required", "service_provider"
            )
        _config(uow, ConfigKind.SERVICE_PROVIDER, provider, "service_provider")
        actor.require_provider(provider)
        return provider

    def _initial_state(self, uow: UnitOfWork, state: str | None, reason: str | None) -> EntityState:
        initial = parse_state(state or EntityState.ACTIVE.value)
        if initial is EntityState.DEACTIVATED:
            raise invalid("state", "a new entity cannot start DEACTIVATED")
        check_reason_state(
            uow, "state", "state_reason", {"state": initial.value, "state_reason": reason}
        )
        return initial

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


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _text(value: str | None, name: str, length_max: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > length_max:
        raise invalid(name, f"{name} must be at most {length_max} characters")
    return text or None


def _config(uow: UnitOfWork, kind: ConfigKind, code: str, field_name: str) -> Record:
    record = uow.config.get(kind, code)
    if record is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"{field_name} {code!r} does not exist ({kind.value})",
            field_name,
        )
    return record


def _ref(uow: UnitOfWork, kind: ConfigKind, code: str | None, field_name: str) -> None:
    if code is not None:
        _config(uow, kind, code, field_name)


def _diff(before: object, after: object) -> dict[str, object]:
    old, new = asdict(before), asdict(after)  # type: ignore[call-overload]
    return {k: v for k, v in new.items() if old.get(k) != v}


def _require_not_deactivated(state: EntityState, what: str, field_name: str) -> None:
    if state is EntityState.DEACTIVATED:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"{what} is DEACTIVATED and takes nothing new",
            field_name,
        )


def _check_unique_customer_name(
    uow: UnitOfWork, provider: str, key: str, except_id: int | None
) -> None:
    existing = uow.casm.customer_id_by_name_key(provider, key)
    if existing is not None and existing != except_id:
        raise DomainError(
            ProblemKind.DUPLICATE,
            f"customer {existing} of {provider!r} already has this name "
            "(case and special characters are ignored)",
            "name",
        )


def _check_subscriber_unique(
    uow: UnitOfWork, provider: str, cli: str, card: str, except_id: int | None
) -> None:
    if uow.casm.subscriber_id_taken(provider, "subscriber_id", cli, except_id):
        raise DomainError(
            ProblemKind.DUPLICATE, f"subscriber ID {cli!r} already exists", "subscriber_id"
        )
    if uow.casm.subscriber_id_taken(provider, "card_number", card, except_id):
        raise DomainError(
            ProblemKind.DUPLICATE, f"card number {card!r} already exists", "card_number"
        )


def _customer(
    uow: UnitOfWork, actor: Actor, customer_id: int, field_name: str | None = None
) -> Customer:
    customer = uow.casm.get_customer(customer_id)
    if customer is None or not actor.may_use_provider(customer.service_provider):
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE if field_name else ProblemKind.NOT_FOUND,
            f"customer {customer_id} does not exist",
            field_name,
        )
    return customer


def _account(
    uow: UnitOfWork, actor: Actor, account_id: int, field_name: str | None = None
) -> Account:
    account = uow.casm.get_account(account_id)
    if account is not None:
        customer = uow.casm.get_customer(account.customer_id)
        if customer is not None and actor.may_use_provider(customer.service_provider):
            return account
    raise DomainError(
        ProblemKind.UNKNOWN_REFERENCE if field_name else ProblemKind.NOT_FOUND,
        f"account {account_id} does not exist",
        field_name,
    )


def _visible_subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber | None:
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
        return None
    return subscriber


def _subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber:
    subscriber = _visible_subscriber(uow, actor, subscriber_id)
    if subscriber is None:
        raise not_found("subscriber", subscriber_id)
    return subscriber


def _entity_state(uow: UnitOfWork, actor: Actor, level: CasmLevel, entity_id: int) -> EntityState:
    if level is CasmLevel.CUSTOMER:
        return _customer(uow, actor, entity_id).state
    if level is CasmLevel.ACCOUNT:
        return _account(uow, actor, entity_id).state
    return _subscriber(uow, actor, entity_id).state
