"""Wallet settings: adjustment limits (per product type and per operator), activation
promotions, state permission overrides, exchange rates and EDR masking rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ocs.core.configuration import ConfigKind, Record, UnitOfMeasure
from ocs.core.edr import MaskingRule, check_masking_rule
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.money import ExchangeRate, parse_rate
from ocs.core.security import Privilege
from ocs.core.wallets import (
    ActivationCredit,
    AdjustmentLimitRule,
    WalletAction,
    WalletState,
    check_adjustment_limits,
    check_amount,
    parse_enum,
    permitted,
)
from ocs.service.actor import Actor, record_change
from ocs.service.ports import Clock, Store, UnitOfWork

ENTITY = "wallet-settings"
VALIDITY_S_MAX = 100 * 366 * 86400


@dataclass(frozen=True)
class PermissionCell:
    """One cell of a product type's effective permission matrix."""

    state: WalletState
    action: WalletAction
    allowed: bool
    overridden: bool


class WalletSettingsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- adjustment limits --------------------------------------------------------------------

    def set_adjustment_limits(
        self,
        actor: Actor,
        product_type: str,
        balance_type: str,
        minimum: int,
        maximum: int,
        operator: str | None = None,
    ) -> AdjustmentLimitRule:
        """Limits for adjustments of one balance type; an operator's own limits win."""
        actor.require(Privilege.ADMIN if operator else Privilege.CREATE_DELETE)
        rule = AdjustmentLimitRule(
            product_type, balance_type, operator, check_adjustment_limits(minimum, maximum)
        )
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            _balance_type(uow, balance_type)
            if operator is not None and uow.operators.by_username(operator) is None:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"operator {operator!r} does not exist",
                    "operator",
                )
            uow.wallet_settings.put_adjustment_limits(rule)
            detail: dict[str, object] = {
                "balance_type": balance_type,
                "minimum": minimum,
                "maximum": maximum,
            }
            detail["operator"] = operator
            self._audit(uow, actor, "adjustment-limits", product_type, detail)
        return rule

    def delete_adjustment_limits(
        self, actor: Actor, product_type: str, balance_type: str, operator: str | None = None
    ) -> None:
        actor.require(Privilege.ADMIN if operator else Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            if not uow.wallet_settings.delete_adjustment_limits(
                product_type, balance_type, operator
            ):
                raise not_found("adjustment limits", f"{product_type}/{balance_type}")
            detail = {"balance_type": balance_type, "operator": operator, "deleted": True}
            self._audit(uow, actor, "adjustment-limits", product_type, detail)

    def adjustment_limits(self, actor: Actor, product_type: str) -> list[AdjustmentLimitRule]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            return uow.wallet_settings.list_adjustment_limits(product_type)

    # -- activation promotion -------------------------------------------------------------------

    def set_activation_credit(
        self,
        actor: Actor,
        product_type: str,
        balance_type: str,
        amount: int,
        validity_s: int | None = None,
    ) -> ActivationCredit:
        """A credit applied when a wallet of the product type is activated."""
        actor.require(Privilege.CREATE_DELETE)
        check_amount(amount, "amount")
        if amount < 0:
            raise invalid("amount", "an activation credit must be positive")
        if validity_s is not None and not 0 < validity_s <= VALIDITY_S_MAX:
            raise invalid("validity_s", "validity_s must be a positive number of seconds")
        credit = ActivationCredit(product_type, balance_type, amount, validity_s)
        with self.store.transaction() as uow:
            product = _product_type(uow, actor, product_type)
            record = _balance_type(uow, balance_type)
            if record["unit"] == UnitOfMeasure.MONEY.value and product["currency"] not in (
                None,
                record["currency"],
            ):
                raise invalid(
                    "balance_type",
                    f"balance type {balance_type!r} holds {record['currency']}, "
                    f"the product type {product['currency']}",
                )
            uow.wallet_settings.put_activation_credit(credit)
            detail = {"balance_type": balance_type, "amount": amount, "validity_s": validity_s}
            self._audit(uow, actor, "activation-credit", product_type, detail)
        return credit

    def delete_activation_credit(self, actor: Actor, product_type: str, balance_type: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            if not uow.wallet_settings.delete_activation_credit(product_type, balance_type):
                raise not_found("activation credit", f"{product_type}/{balance_type}")
            detail = {"balance_type": balance_type, "deleted": True}
            self._audit(uow, actor, "activation-credit", product_type, detail)

    def activation_credits(self, actor: Actor, product_type: str) -> list[ActivationCredit]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            return uow.wallet_settings.activation_credits(product_type)

    # -- state permissions ----------------------------------------------------------------------

    def set_permission(
        self, actor: Actor, product_type: str, state: str, action: str, allowed: bool
    ) -> PermissionCell:
        """Override one cell of the default wallet state permission matrix."""
        actor.require(Privilege.CREATE_DELETE)
        cell_state = parse_enum(WalletState, state, "state")
        cell_action = parse_enum(WalletAction, action, "action")
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            uow.wallet_settings.put_permission(product_type, cell_state, cell_action, allowed)
            detail = {"state": cell_state.value, "action": cell_action.value, "allowed": allowed}
            self._audit(uow, actor, "permission", product_type, detail)
        return PermissionCell(cell_state, cell_action, allowed, True)

    def delete_permission(self, actor: Actor, product_type: str, state: str, action: str) -> None:
        """Return one cell to the default."""
        actor.require(Privilege.CREATE_DELETE)
        cell_state = parse_enum(WalletState, state, "state")
        cell_action = parse_enum(WalletAction, action, "action")
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            if not uow.wallet_settings.delete_permission(product_type, cell_state, cell_action):
                raise not_found("permission override", f"{state}/{action}")
            detail = {"state": cell_state.value, "action": cell_action.value, "deleted": True}
            self._audit(uow, actor, "permission", product_type, detail)

    def permissions(self, actor: Actor, product_type: str) -> list[PermissionCell]:
        """The product type's effective matrix: defaults with its overrides applied."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _product_type(uow, actor, product_type)
            overrides = uow.wallet_settings.permission_overrides(product_type)
        return [
            PermissionCell(
                state, action, permitted(state, action, overrides), (state, action) in overrides
            )
            for state in WalletState
            for action in WalletAction
        ]

    # -- exchange rates -------------------------------------------------------------------------

    def set_exchange_rate(
        self, actor: Actor, from_currency: str, to_currency: str, rate: str
    ) -> ExchangeRate:
        """One major unit of from_currency costs `rate` (a decimal text) of to_currency."""
        actor.require(Privilege.CREATE_DELETE)
        value = ExchangeRate(from_currency, to_currency, parse_rate(rate))
        if from_currency == to_currency:
            raise invalid("to_currency", "a rate converts between two different currencies")
        with self.store.transaction() as uow:
            for code, name in ((from_currency, "from_currency"), (to_currency, "to_currency")):
                if uow.config.get(ConfigKind.CURRENCY, code) is None:
                    raise DomainError(
                        ProblemKind.UNKNOWN_REFERENCE, f"{name} {code!r} does not exist", name
                    )
            uow.wallet_settings.put_exchange_rate(value)
            key = f"{from_currency}/{to_currency}"
            self._audit(uow, actor, "exchange-rate", key, {"rate": rate})
        return value

    def delete_exchange_rate(self, actor: Actor, from_currency: str, to_currency: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            if not uow.wallet_settings.delete_exchange_rate(from_currency, to_currency):
                raise not_found("exchange rate", f"{from_currency}/{to_currency}")
            key = f"{from_currency}/{to_currency}"
            self._audit(uow, actor, "exchange-rate", key, {"deleted": True})

    def exchange_rates(self, actor: Actor) -> list[ExchangeRate]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.wallet_settings.list_exchange_rates()

    # -- EDR masking ---------------------------------------------------------------------------

    def set_masking_rule(
        self, actor: Actor, field: str, keep_prefix: int, keep_suffix: int
    ) -> MaskingRule:
        """Hide the middle of an EDR field from operators without the NO MASKING privilege."""
        actor.require(Privilege.ADMIN)
        rule = check_masking_rule(field, keep_prefix, keep_suffix)
        with self.store.transaction() as uow:
            uow.wallet_settings.put_masking_rule(rule)
            detail = {"keep_prefix": keep_prefix, "keep_suffix": keep_suffix}
            self._audit(uow, actor, "masking-rule", field, detail)
        return rule

    def delete_masking_rule(self, actor: Actor, field: str) -> None:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            if not uow.wallet_settings.delete_masking_rule(field):
                raise not_found("masking rule", field)
            self._audit(uow, actor, "masking-rule", field, {"deleted": True})

    def masking_rules(self, actor: Actor) -> list[MaskingRule]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return list(uow.wallet_settings.masking_rules().values())

    def _audit(
        self, uow: UnitOfWork, actor: Actor, setting: str, key: str, detail: Mapping[str, object]
    ) -> None:
        action = "delete" if detail.get("deleted") else "set"
        record_change(uow, actor, self.clock.now(), action, ENTITY, f"{setting}/{key}", detail)


def _product_type(uow: UnitOfWork, actor: Actor, code: str) -> Record:
    record = uow.config.get(ConfigKind.PRODUCT_TYPE, code)
    if record is None or not actor.may_use_provider(str(record["service_provider"])):
        raise not_found("product type", code)
    return record


def _balance_type(uow: UnitOfWork, code: str) -> Record:
    record = uow.config.get(ConfigKind.BALANCE_TYPE, code)
    if record is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"balance_type {code!r} does not exist (balance-types)",
            "balance_type",
        )
    return record
