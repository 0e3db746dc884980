"""Use cases for credit cards (seed 003 "Credit Cards", seed 002 "Credit Card"): masking rules,
creating, editing, searching, freezing and deleting cards, registering subscribers to them,
and freezing a registered subscriber's primary wallet.

Secrets: the full number and the CVC arrive in inputs whose repr hides them; the number is
only masked and tokenised, the CVC only checked. Neither is stored, audited or returned."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from ocs.core.credit_cards import (
    DEFAULT_SEARCH_STATES,
    REGISTRATIONS_PER_SUBSCRIBER_DEFAULT,
    SEARCH_ROWS_MAX,
    CardState,
    CreditCard,
    DeleteOutcome,
    MaskingRule,
    Registration,
    RegistrationState,
    card_token,
    check_card_number,
    check_cvc,
    check_deregister,
    check_expiry,
    check_freeze,
    check_masking_rule,
    check_name_on_card,
    check_not_deleted,
    check_registration_limit,
    check_registrations_limit_setting,
    check_set_primary,
    check_unfreeze,
    confirmed_state,
    delete_outcome,
    initial_state,
    luhn_warnings,
    mask_number,
)
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.security import Privilege
from ocs.core.wallets import WalletState, WalletType, parse_enum
from ocs.service.actor import Actor, record_change
from ocs.service.credit_card_ports import CardQuery
from ocs.service.feature_access import locked_subscriber, visible_provider, visible_subscriber
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallets import WalletService, WalletView

# Where the generated token key is kept when OCS_CARD_TOKEN_KEY is not set.
TOKEN_KEY_SETTING = "credit_card_token_key"
TOKEN_KEY_BYTES = 32
CONFIGURED_KEY_LENGTH_MIN = 32
REGISTRATIONS_LIMIT_SETTING = "credit_card_registrations_max"
CARD_ENTITY = "credit-card"
RULE_ENTITY = "card-masking-rule"


@dataclass(frozen=True)
class CardInput:
    """A new card. The number and the CVC stay out of repr so they cannot reach a log."""

    service_provider: str
    masking_rule: str
    expiry_month: int
    expiry_year: int
    number: str = field(repr=False)
    cvc: str = field(repr=False)
    name_on_card: str | None = None
    # Registers the card to this subscriber (state NEW) as it is created.
    subscriber_id: int | None = None
    frozen: bool = True
    accept_luhn_failure: bool = False


@dataclass(frozen=True)
class CardUpdate:
    """An edit: fields left None keep their value; the CVC, if given, is only checked."""

    expiry_month: int | None = None
    expiry_year: int | None = None
    name_on_card: str | None = None
    clear_name_on_card: bool = False
    cvc: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CardSearch:
    """Any combination of display number (prefix), calling card ID (subscriber ID or card
    number of a registered subscriber) and full number (matched through its token)."""

    service_provider: str | None = None
    display_number: str | None = None
    masking_rule: str | None = None
    calling_card_id: str | None = None
    number: str | None = field(default=None, repr=False)
    states: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RegistrationView:
    subscriber_id: int
    subscriber_number: str
    state: RegistrationState
    registered_at: datetime
    primary_wallet_state: WalletState | None


@dataclass(frozen=True)
class CardView:
    card: CreditCard
    registrations: list[RegistrationView]


@dataclass(frozen=True)
class CardCreated:
    card: CardView
    warnings: list[str]


@dataclass(frozen=True)
class CardSearchResult:
    items: list[CardView]
    # More than SEARCH_ROWS_MAX cards match: narrow the search.
    truncated: bool


@dataclass(frozen=True)
class CardDeleted:
    card_id: int
    outcome: DeleteOutcome
    # The card as kept in the DELETED state; None when it was removed.
    card: CardView | None


@dataclass(frozen=True)
class CardSettings:
    registrations_per_subscriber_max: int


class CreditCardService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        wallets: WalletService,
        token_key: str | None = None,
    ) -> None:
        if token_key is not None and len(token_key) < CONFIGURED_KEY_LENGTH_MIN:
            raise ValueError(
                f"OCS_CARD_TOKEN_KEY must be at least {CONFIGURED_KEY_LENGTH_MIN} characters"
            )
        self.store = store
        self.clock = clock
        self.wallets = wallets
        self._configured_key = None if token_key is None else token_key.encode()

    # -- masking rules ---------------------------------------------------------------------

    def create_rule(
        self,
        actor: Actor,
        code: str,
        name: str,
        prefix_length: int,
        suffix_length: int,
        padding: str,
    ) -> MaskingRule:
        actor.require(Privilege.CREATE_DELETE)
        rule = check_masking_rule(code, name, prefix_length, suffix_length, padding)
        with self.store.transaction() as uow:
            if uow.credit_cards.get_rule(rule.code) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE, f"masking rule {rule.code!r} already exists", "code"
                )
            uow.credit_cards.insert_rule(rule)
            detail = {
                "name": rule.name,
                "prefix_length": rule.prefix_length,
                "suffix_length": rule.suffix_length,
                "padding": rule.padding,
            }
            self._audit(uow, actor, "create", RULE_ENTITY, rule.code, detail)
            return rule

    def list_rules(self, actor: Actor) -> list[MaskingRule]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.credit_cards.list_rules()

    def get_rule(self, actor: Actor, code: str) -> MaskingRule:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            rule = uow.credit_cards.get_rule(code)
            if rule is None:
                raise not_found("masking rule", code)
            return rule

    def delete_rule(self, actor: Actor, code: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            if uow.credit_cards.get_rule(code) is None:
                raise not_found("masking rule", code)
            if uow.credit_cards.rule_in_use(code):
                raise DomainError(
                    ProblemKind.IN_USE, f"masking rule {code!r} masks stored cards", "code"
                )
            uow.credit_cards.delete_rule(code)
            self._audit(uow, actor, "delete", RULE_ENTITY, code, {})

    # -- settings --------------------------------------------------------------------------

    def settings(self, actor: Actor) -> CardSettings:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return CardSettings(_registrations_limit(uow))

    def set_settings(self, actor: Actor, registrations_per_subscriber_max: int) -> CardSettings:
        actor.require(Privilege.ADMIN)
        limit = check_registrations_limit_setting(registrations_per_subscriber_max)
        with self.store.transaction() as uow:
            detail = {"registrations_per_subscriber_max": limit}
            self._audit(uow, actor, "update", "setting", REGISTRATIONS_LIMIT_SETTING, detail)
            uow.settings.put(REGISTRATIONS_LIMIT_SETTING, str(limit))
            return CardSettings(limit)

    # -- cards -----------------------------------------------------------------------------

    def create(self, actor: Actor, inp: CardInput) -> CardCreated:
        actor.require(Privilege.CREATE_DELETE)
        now = self.clock.now()
        number = check_card_number(inp.number)
        check_cvc(inp.cvc)
        month, year = check_expiry(inp.expiry_month, inp.expiry_year, now)
        name = check_name_on_card(inp.name_on_card)
        warnings = luhn_warnings(number, inp.accept_luhn_failure)
        state = initial_state(inp.frozen, inp.subscriber_id is not None)
        with self.store.transaction() as uow:
            provider = visible_provider(uow, actor, inp.service_provider)
            rule = uow.credit_cards.get_rule(inp.masking_rule)
            if rule is None:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"masking rule {inp.masking_rule!r} does not exist",
                    "masking_rule",
                )
            token = card_token(self._token_key(uow), number)
            existing = uow.credit_cards.card_by_token(provider, token)
            if existing is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"this card number is already stored as credit card {existing.id} "
                    f"({existing.state.value})",
                    "number",
                )
            if inp.subscriber_id is not None:
                self._registrable(uow, actor, provider, inp.subscriber_id)
            card = CreditCard(
                id=0,
                service_provider=provider,
                token=token,
                display_number=mask_number(number, rule),
                masking_rule=rule.code,
                expiry_month=month,
                expiry_year=year,
                name_on_card=name,
                state=state,
                created_at=now,
                updated_at=now,
            )
            card = replace(card, id=uow.credit_cards.insert_card(card))
            detail: dict[str, object] = {
                "service_provider": provider,
                "display_number": card.display_number,
                "masking_rule": rule.code,
                "state": state.value,
                "luhn_check_failed": bool(warnings),
            }
            if inp.subscriber_id is not None:
                uow.credit_cards.insert_registration(
                    Registration(card.id, inp.subscriber_id, RegistrationState.NEW, now)
                )
                detail["subscriber_id"] = inp.subscriber_id
            self._audit(uow, actor, "create", CARD_ENTITY, card.id, detail)
            return CardCreated(_view(uow, card), warnings)

    def get(self, actor: Actor, card_id: int) -> CardView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _view(uow, _card(uow, actor, card_id))

    def search(self, actor: Actor, criteria: CardSearch) -> CardSearchResult:
        actor.require(Privilege.READ)
        states = _states(criteria.states)
        display = _text(criteria.display_number, "display_number")
        calling_card_id = _text(criteria.calling_card_id, "calling_card_id")
        number = None if criteria.number is None else check_card_number(criteria.number)
        if display is None and calling_card_id is None and number is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                "give a display number, a calling card ID or a card number to search for",
                "display_number",
            )
        with self.store.transaction() as uow:
            providers = actor.service_providers
            if criteria.service_provider is not None:
                providers = frozenset({visible_provider(uow, actor, criteria.service_provider)})
            query = CardQuery(
                providers=providers,
                states=states,
                display_number=display,
                masking_rule=_text(criteria.masking_rule, "masking_rule"),
                token=None if number is None else card_token(self._token_key(uow), number),
                calling_card_id=calling_card_id,
            )
            found = uow.credit_cards.search(query, SEARCH_ROWS_MAX + 1)
            items = [_view(uow, card) for card in found[:SEARCH_ROWS_MAX]]
            return CardSearchResult(items, len(found) > SEARCH_ROWS_MAX)

    def cards_of_subscriber(self, actor: Actor, subscriber_id: int) -> list[CardView]:
        """The subscriber's credit card table (seed 002), deleted cards included."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return [
                _view(uow, card) for card in uow.credit_cards.cards_of_subscriber(subscriber_id)
            ]

    def update(self, actor: Actor, card_id: int, change: CardUpdate) -> CardView:
        actor.require(Privilege.MODIFY)
        if change.cvc is not None:
            check_cvc(change.cvc)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_not_deleted(card)
            month, year = card.expiry_month, card.expiry_year
            if change.expiry_month is not None or change.expiry_year is not None:
                # Checked only when changed: an expired card's name can still be corrected.
                month, year = check_expiry(
                    month if change.expiry_month is None else change.expiry_month,
                    year if change.expiry_year is None else change.expiry_year,
                    self.clock.now(),
                )
            name = card.name_on_card
            if change.clear_name_on_card:
                name = None
            elif change.name_on_card is not None:
                name = check_name_on_card(change.name_on_card)
            updated = replace(
                card, expiry_month=month, expiry_year=year, name_on_card=name,
                updated_at=self.clock.now(),
            )  # fmt: skip
            uow.credit_cards.update_card(updated)
            detail = {
                key: value
                for key, value in (
                    ("expiry_month", month),
                    ("expiry_year", year),
                    ("name_on_card", name),
                )
                if getattr(card, key) != value
            }
            self._audit(uow, actor, "update", CARD_ENTITY, card_id, detail)
            return _view(uow, updated)

    def freeze(self, actor: Actor, card_id: int) -> CardView:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_freeze(card)
            return self._set_state(uow, actor, card, CardState.FROZEN, "freeze")

    def unfreeze(self, actor: Actor, card_id: int) -> CardView:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_unfreeze(card, len(uow.credit_cards.list_registrations(card_id)))
            return self._set_state(uow, actor, card, CardState.ACTIVE, "unfreeze")

    def delete(self, actor: Actor, card_id: int) -> CardDeleted:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            outcome = delete_outcome(card)
            detail = {"display_number": card.display_number, "outcome": outcome.value}
            self._audit(uow, actor, "delete", CARD_ENTITY, card_id, detail)
            if outcome is DeleteOutcome.REMOVED:
                uow.credit_cards.delete_card(card_id)
                return CardDeleted(card_id, outcome, None)
            deleted = replace(card, state=CardState.DELETED, updated_at=self.clock.now())
            uow.credit_cards.update_card(deleted)
            return CardDeleted(card_id, outcome, _view(uow, deleted))

    # -- registrations ---------------------------------------------------------------------

    def register(self, actor: Actor, card_id: int, subscriber_id: int) -> CardView:
        """Register a subscriber to an existing card; it waits (PENDING) for Confirm."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_not_deleted(card)
            self._registrable(uow, actor, card.service_provider, subscriber_id)
            if _registration(uow, card_id, subscriber_id, required=False) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"subscriber {subscriber_id} is already registered to credit card {card_id}",
                    "subscriber_id",
                )
            now = self.clock.now()
            uow.credit_cards.insert_registration(
                Registration(card_id, subscriber_id, RegistrationState.PENDING, now)
            )
            detail = {"subscriber_id": subscriber_id, "state": RegistrationState.PENDING.value}
            self._audit(uow, actor, "register", CARD_ENTITY, card_id, detail)
            return _view(uow, card)

    def confirm(self, actor: Actor, card_id: int, subscriber_id: int) -> CardView:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_not_deleted(card)
            registration = _registration(uow, card_id, subscriber_id)
            assert registration is not None
            has_primary = any(
                r.state is RegistrationState.PRIMARY
                for r in uow.credit_cards.list_registrations(card_id)
            )
            state = confirmed_state(registration, has_primary)
            uow.credit_cards.set_registration_state(card_id, subscriber_id, state)
            detail = {"subscriber_id": subscriber_id, "state": state.value}
            self._audit(uow, actor, "confirm", CARD_ENTITY, card_id, detail)
            return _view(uow, card)

    def set_primary(self, actor: Actor, card_id: int, subscriber_id: int) -> CardView:
        """Make a registered subscriber the card's primary one; the former primary subscriber
        becomes SECONDARY."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            registration = _registration(uow, card_id, subscriber_id)
            assert registration is not None
            check_set_primary(card, registration)
            for other in uow.credit_cards.list_registrations(card_id):
                if other.state is RegistrationState.PRIMARY:
                    uow.credit_cards.set_registration_state(
                        card_id, other.subscriber_id, RegistrationState.SECONDARY
                    )
            uow.credit_cards.set_registration_state(
                card_id, subscriber_id, RegistrationState.PRIMARY
            )
            detail = {"subscriber_id": subscriber_id, "state": RegistrationState.PRIMARY.value}
            self._audit(uow, actor, "set-primary", CARD_ENTITY, card_id, detail)
            return _view(uow, card)

    def deregister(self, actor: Actor, card_id: int, subscriber_id: int) -> CardView:
        """Remove a (non-primary) registration. An active card left without any registered
        subscriber is frozen, since only registered cards may be active."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id, for_update=True)
            check_not_deleted(card)
            registration = _registration(uow, card_id, subscriber_id)
            assert registration is not None
            check_deregister(registration)
            uow.credit_cards.delete_registration(card_id, subscriber_id)
            detail: dict[str, object] = {"subscriber_id": subscriber_id}
            if card.state is CardState.ACTIVE and not uow.credit_cards.list_registrations(card_id):
                card = replace(card, state=CardState.FROZEN, updated_at=self.clock.now())
                uow.credit_cards.update_card(card)
                detail["state"] = CardState.FROZEN.value
            self._audit(uow, actor, "deregister", CARD_ENTITY, card_id, detail)
            return _view(uow, card)

    def freeze_wallet(self, actor: Actor, card_id: int, subscriber_id: int) -> WalletView:
        """Freeze a registered subscriber's primary wallet through the wallet service, which
        audits the change and writes the state change EDR."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            card = _card(uow, actor, card_id)
            check_not_deleted(card)
            _registration(uow, card_id, subscriber_id)
            wallet_id = None
            for link in uow.wallets.links_of_subscriber(subscriber_id):
                if link.wallet_type is WalletType.PRIMARY:
                    wallet_id = link.wallet_id
            if wallet_id is None:
                raise DomainError(
                    ProblemKind.NOT_FOUND,
                    f"subscriber {subscriber_id} has no primary wallet",
                    "subscriber_id",
                )
        return self.wallets.change_state(actor, wallet_id, WalletState.FROZEN.value)

    # -- helpers ---------------------------------------------------------------------------

    def _token_key(self, uow: UnitOfWork) -> bytes:
        """The HMAC key. OCS_CARD_TOKEN_KEY wins; without it a random key is made on first use
        and kept in the settings table, so that tokens stay the same across restarts and
        processes. (A key kept beside the tokens protects less than one kept outside the
        database: production should set OCS_CARD_TOKEN_KEY, and never change it, since every
        stored token depends on it.) A concurrent first use that loses the insert race rolls
        back, so no card is ever tokenised under a key that was not kept."""
        if self._configured_key is not None:
            return self._configured_key
        stored = uow.settings.get(TOKEN_KEY_SETTING)
        if stored is None:
            stored = secrets.token_hex(TOKEN_KEY_BYTES)
            uow.settings.put(TOKEN_KEY_SETTING, stored)
        return bytes.fromhex(stored)

    def _registrable(
        self, uow: UnitOfWork, actor: Actor, provider: str, subscriber_id: int
    ) -> None:
        """The subscriber exists, belongs to the card's service provider and is below the
        registration limit (its row is locked so concurrent registrations count right)."""
        subscriber = locked_subscriber(uow, actor, subscriber_id)
        if subscriber.service_provider != provider:
            raise invalid(
                "subscriber_id",
                f"subscriber {subscriber_id} belongs to another service provider than the card",
            )
        current = uow.credit_cards.count_registrations_of_subscriber(
            subscriber_id, (CardState.DELETED,)
        )
        check_registration_limit(current, _registrations_limit(uow))

    def _set_state(
        self, uow: UnitOfWork, actor: Actor, card: CreditCard, state: CardState, action: str
    ) -> CardView:
        updated = replace(card, state=state, updated_at=self.clock.now())
        uow.credit_cards.update_card(updated)
        detail = {"state": {"from": card.state.value, "to": state.value}}
        self._audit(uow, actor, action, CARD_ENTITY, card.id, detail)
        return _view(uow, updated)

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


def _registrations_limit(uow: UnitOfWork) -> int:
    stored = uow.settings.get(REGISTRATIONS_LIMIT_SETTING)
    return REGISTRATIONS_PER_SUBSCRIBER_DEFAULT if stored is None else int(stored)


def _card(uow: UnitOfWork, actor: Actor, card_id: int, for_update: bool = False) -> CreditCard:
    card = uow.credit_cards.get_card(card_id, for_update)
    if card is None or not actor.may_use_provider(card.service_provider):
        raise not_found("credit card", card_id)
    return card


def _registration(
    uow: UnitOfWork, card_id: int, subscriber_id: int, required: bool = True
) -> Registration | None:
    for registration in uow.credit_cards.list_registrations(card_id):
        if registration.subscriber_id == subscriber_id:
            return registration
    if required:
        raise DomainError(
            ProblemKind.NOT_FOUND,
            f"subscriber {subscriber_id} is not registered to credit card {card_id}",
            "subscriber_id",
        )
    return None


def _states(values: tuple[str, ...] | None) -> frozenset[CardState]:
    if not values:
        return DEFAULT_SEARCH_STATES
    return frozenset(parse_enum(CardState, value, "states") for value in values)


def _text(value: str | None, field_name: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > 64:
        raise invalid(field_name, f"{field_name} must be at most 64 characters")
    return text


def _view(uow: UnitOfWork, card: CreditCard) -> CardView:
    views = []
    for registration in uow.credit_cards.list_registrations(card.id):
        subscriber = uow.casm.get_subscriber(registration.subscriber_id)
        wallet_state = None
        for link in uow.wallets.links_of_subscriber(registration.subscriber_id):
            if link.wallet_type is WalletType.PRIMARY:
                wallet = uow.wallets.get_wallet(link.wallet_id)
                wallet_state = None if wallet is None else wallet.state
        views.append(
            RegistrationView(
                subscriber_id=registration.subscriber_id,
                subscriber_number="" if subscriber is None else subscriber.subscriber_id,
                state=registration.state,
                registered_at=registration.registered_at,
                primary_wallet_state=wallet_state,
            )
        )
    return CardView(card, views)
