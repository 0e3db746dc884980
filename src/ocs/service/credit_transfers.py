"""Use cases for credit transfers (seed 002 "Perform Credit Transfers"): transfer definitions,
and performing one: the purchaser pays an amount of one balance type to apply a voucher type to
the recipient's wallet. Debit and credit happen in one transaction, with an EDR on each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind
from ocs.core.edr import Edr, EdrType, check_tags, encode_movements
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege
from ocs.core.vouchers import (
    TransferDefinition,
    check_charge_amount,
    check_code,
    check_description,
    check_name,
    parse_transfer_type,
    product_type_allowed,
)
from ocs.core.wallets import (
    WalletAction,
    WalletType,
    available_value,
    insufficient,
    of_type,
    parse_enum,
    plan_debit,
)
from ocs.service.actor import Actor, record_change
from ocs.service.pins import WrongPinError, check_pin, count_pin_failure
from ocs.service.ports import Clock, PasswordHasher, Store, UnitOfWork
from ocs.service.vouchers import (
    AppliedVoucher,
    apply_voucher_type,
    check_provider_product_types,
    check_visible_provider,
    linked_wallet_id,
    visible_voucher_type,
)
from ocs.service.wallet_ledger import Ledger, operator_origin, totals


@dataclass(frozen=True)
class TransferDefinitionInput:
    code: str
    name: str
    transfer_type: str
    service_provider: str
    charge_balance_type: str
    charge_amount: int
    voucher_type: str
    pin_required: bool = False
    allowed_product_types: Sequence[str] = ()
    description: str | None = None


@dataclass(frozen=True)
class TransferRequest:
    """Perform a transfer; the PIN stays out of repr so that it cannot reach a log."""

    purchaser_id: int
    definition: str
    recipient_msisdn: str | None = None
    purchaser_wallet_type: str = WalletType.PRIMARY.value
    recipient_wallet_type: str = WalletType.PRIMARY.value
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TransferResult:
    definition: str
    purchaser_id: int
    recipient_id: int
    purchaser_edr: Edr
    recipient: AppliedVoucher


class CreditTransferService:
    def __init__(self, store: Store, clock: Clock, hasher: PasswordHasher) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher

    # -- definitions -----------------------------------------------------------------------------

    def create_definition(self, actor: Actor, inp: TransferDefinitionInput) -> TransferDefinition:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            provider = check_visible_provider(uow, actor, inp.service_provider.strip())
            definition = self._checked(uow, actor, inp, provider)
            if uow.vouchers.get_definition(definition.code) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"credit transfer definition {definition.code!r} already exists",
                    "code",
                )
            definition = replace(definition, id=uow.vouchers.insert_definition(definition))
            self._audit(uow, actor, "create", definition)
            return definition

    def update_definition(
        self, actor: Actor, code: str, inp: TransferDefinitionInput
    ) -> TransferDefinition:
        """Replace a definition's settings; its code and service provider are immutable."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = self._visible(uow, actor, code)
            if inp.code.strip() != current.code:
                raise DomainError(ProblemKind.IMMUTABLE_FIELD, "code cannot change", "code")
            if inp.service_provider.strip() != current.service_provider:
                raise DomainError(
                    ProblemKind.IMMUTABLE_FIELD,
                    "service_provider cannot change",
                    "service_provider",
                )
            definition = replace(
                self._checked(uow, actor, inp, current.service_provider), id=current.id
            )
            uow.vouchers.update_definition(definition)
            self._audit(uow, actor, "update", definition)
            return definition

    def get_definition(self, actor: Actor, code: str) -> TransferDefinition:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return self._visible(uow, actor, code)

    def list_definitions(self, actor: Actor) -> list[TransferDefinition]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.vouchers.list_definitions(actor.service_providers)

    def delete_definition(self, actor: Actor, code: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            definition = self._visible(uow, actor, code)
            uow.vouchers.delete_definition(code)
            self._audit(uow, actor, "delete", definition)

    def _visible(self, uow: UnitOfWork, actor: Actor, code: str) -> TransferDefinition:
        definition = uow.vouchers.get_definition(code)
        if definition is None or not actor.may_use_provider(definition.service_provider):
            raise not_found("credit transfer definition", code)
        return definition

    def _checked(
        self, uow: UnitOfWork, actor: Actor, inp: TransferDefinitionInput, provider: str
    ) -> TransferDefinition:
        balance_type = inp.charge_balance_type.strip()
        if uow.config.get(ConfigKind.BALANCE_TYPE, balance_type) is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"balance type {balance_type!r} does not exist",
                "charge_balance_type",
            )
        voucher_type = visible_voucher_type(uow, actor, inp.voucher_type.strip(), "voucher_type")
        if voucher_type.service_provider != provider:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"voucher type {voucher_type.code!r} belongs to another service provider",
                "voucher_type",
            )
        if not isinstance(inp.pin_required, bool):
            raise DomainError(
                ProblemKind.INVALID_VALUE, "pin_required must be true or false", "pin_required"
            )
        return TransferDefinition(
            id=0,
            code=check_code(inp.code),
            name=check_name(inp.name),
            transfer_type=parse_transfer_type(inp.transfer_type),
            service_provider=provider,
            charge_balance_type=balance_type,
            charge_amount=check_charge_amount(inp.charge_amount),
            voucher_type=voucher_type.code,
            pin_required=inp.pin_required,
            allowed_product_types=check_provider_product_types(
                uow, provider, inp.allowed_product_types, "allowed_product_types"
            ),
            description=check_description(inp.description),
        )

    def _audit(
        self, uow: UnitOfWork, actor: Actor, action: str, definition: TransferDefinition
    ) -> None:
        detail = {k: v for k, v in vars(definition).items() if k != "id"}
        record_change(
            uow,
            actor,
            self.clock.now(),
            action,
            "credit-transfer-definition",
            definition.code,
            detail,
        )

    # -- performing a transfer -----------------------------------------------------------------

    def perform(self, actor: Actor, request: TransferRequest) -> TransferResult:
        """Debit the purchaser and apply the definition's voucher type to the recipient, both
        or neither: any refusal (PIN, product type, insufficient funds, the recipient's maximum
        balance or wallet state) leaves everything as it was, except that a wrong PIN counts
        towards blocking it (service/pins.py)."""
        try:
            return self._perform(actor, request)
        except WrongPinError as wrong:
            raise count_pin_failure(self.store, wrong.subscriber_id) from None

    def _perform(self, actor: Actor, request: TransferRequest) -> TransferResult:
        actor.require(Privilege.MODIFY)
        purchaser_kind = parse_enum(
            WalletType, request.purchaser_wallet_type, "purchaser_wallet_type"
        )
        recipient_kind = parse_enum(
            WalletType, request.recipient_wallet_type, "recipient_wallet_type"
        )
        with self.store.transaction() as uow:
            now = self.clock.now()
            purchaser = uow.casm.get_subscriber(request.purchaser_id)
            if purchaser is None or not actor.may_use_provider(purchaser.service_provider):
                raise DomainError(
                    ProblemKind.NOT_FOUND,
                    f"subscriber {request.purchaser_id} does not exist",
                    "purchaser_id",
                )
            definition = uow.vouchers.get_definition(request.definition.strip())
            if definition is None or definition.service_provider != purchaser.service_provider:
                raise DomainError(
                    ProblemKind.NOT_FOUND,
                    f"credit transfer definition {request.definition!r} does not exist",
                    "definition",
                )
            recipient = self._recipient(uow, purchaser, request.recipient_msisdn)
            self._check_pin(uow, purchaser.id, definition, request.pin)
            detail = {
                "definition": definition.code,
                "purchaser": purchaser.id,
                "recipient": recipient.id,
            }
            origin = operator_origin(uow, actor, now, "credit-transfer", purchaser.id, detail)
            purchaser_wallet = linked_wallet_id(
                uow, purchaser.id, purchaser_kind, "purchaser_wallet_type"
            )
            recipient_wallet = linked_wallet_id(
                uow, recipient.id, recipient_kind, "recipient_wallet_type"
            )
            voucher_type = uow.vouchers.get_type(definition.voucher_type)
            assert voucher_type is not None
            ledger = Ledger(uow, now, replace(origin, subscriber_id=purchaser.id))
            # Lock in id order so that two transfers between the same pair cannot deadlock.
            loaded = {
                wallet_id: ledger.load(wallet_id)
                for wallet_id in sorted({purchaser_wallet, recipient_wallet})
            }
            payer = loaded[purchaser_wallet]
            if not product_type_allowed(
                definition.allowed_product_types, payer.wallet.product_type
            ):
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"definition {definition.code!r} is not offered to product type "
                    f"{payer.wallet.product_type!r}",
                    "purchaser_wallet_type",
                )
            ledger.require(payer, WalletAction.CHARGE)
            if payer.wallet.is_expired(now):
                raise DomainError(
                    ProblemKind.WALLET_EXPIRED,
                    "the purchaser's wallet has expired",
                    "purchaser_wallet_type",
                )
            ledger.wake(payer)
            code, amount = definition.charge_balance_type, definition.charge_amount
            balance = payer.balances.get(code)
            floor = 0 if balance is None else balance.floor
            changes = plan_debit(payer.buckets, code, amount, now, floor)
            if changes is None:
                available = available_value(of_type(payer.buckets, code), now)
                error = insufficient(code, amount, available, floor)
                raise DomainError(error.kind, error.detail, "definition")
            before = totals(payer.buckets)
            ids = ledger.apply(payer, changes, drop_empty=True)
            ledger.save_wallet(payer, replace(payer.wallet, last_used_at=now))
            tags = {"TRANSFER": definition.code, "TRANSFER_TYPE": definition.transfer_type.value}
            purchaser_edr = ledger.edr(
                payer,
                EdrType.CREDIT_TRANSFER,
                before,
                [code],
                {
                    "role": "PURCHASER",
                    "recipient": recipient.id,
                    "buckets": encode_movements(changes, ids),
                },
                tags=check_tags({**tags, "ROLE": "PURCHASER"}),
            )
            ledger.origin = replace(ledger.origin, subscriber_id=recipient.id)
            applied = apply_voucher_type(
                ledger,
                loaded[recipient_wallet],
                voucher_type,
                EdrType.CREDIT_TRANSFER,
                {**tags, "ROLE": "RECIPIENT"},
                {"role": "RECIPIENT", "purchaser": purchaser.id},
                "definition",
            )
            return TransferResult(
                definition.code, purchaser.id, recipient.id, purchaser_edr, applied
            )

    def _recipient(self, uow: UnitOfWork, purchaser: Subscriber, msisdn: str | None) -> Subscriber:
        """The subscriber with this MSISDN at the purchaser's service provider; the purchaser
        when none is given."""
        if msisdn is None or not msisdn.strip():
            return purchaser
        number = msisdn.strip()
        found = uow.features.subscriber_ids_by_msisdn(purchaser.service_provider, [number])
        recipient = None if number not in found else uow.casm.get_subscriber(found[number])
        if recipient is None:
            raise DomainError(
                ProblemKind.NOT_FOUND, f"no subscriber has MSISDN {number!r}", "recipient_msisdn"
            )
        return recipient

    def _check_pin(
        self, uow: UnitOfWork, purchaser_id: int, definition: TransferDefinition, pin: str | None
    ) -> None:
        """The purchaser's PIN when the definition requires one. Details never repeat it."""
        if not definition.pin_required:
            return
        if pin is None or not pin:
            raise DomainError(
                ProblemKind.MISSING_FIELD, f"definition {definition.code!r} needs the PIN", "pin"
            )
        if uow.features.get_details(purchaser_id).pin_hash is None:
            raise DomainError(
                ProblemKind.NOT_ALLOWED_IN_STATE, "the purchaser has no PIN set", "pin"
            )
        check_pin(uow, self.hasher, purchaser_id, pin)
