"""Use cases for vouchers: voucher types, batches (generating numbers, serial numbers and
secrets), voucher lookup and states, recharging a wallet with a voucher, and the blacklist of
subscribers with too many failed recharges.

A voucher secret exists in clear only in the batch creation output; the database keeps an
HMAC of it (core.vouchers.hash_secret). Failed recharges are counted in a transaction of their
own, so the count survives the refusal that rolls the recharge back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind
from ocs.core.edr import Edr, EdrType, check_tags
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.security import Privilege
from ocs.core.vouchers import (
    BATCH_LIST_ROWS_MAX,
    BatchState,
    BucketExpiry,
    IssuedVoucher,
    RechargeFailure,
    Voucher,
    VoucherBalanceInput,
    VoucherBatch,
    VoucherState,
    VoucherType,
    after_failure,
    bucket_expiry,
    check_batch_expiry,
    check_batch_size,
    check_batch_transition,
    check_code,
    check_days,
    check_description,
    check_name,
    check_product_types,
    check_secret,
    check_serial_number,
    check_voucher_balances,
    check_voucher_number,
    check_voucher_transition,
    extended_wallet_expiry,
    failure_error,
    hash_secret,
    issue_vouchers,
    plan_extend,
    product_type_allowed,
    secret_matches,
    usable_error,
)
from ocs.core.wallets import (
    CreditOutcome,
    HistoryEvent,
    LimitType,
    WalletAction,
    WalletType,
    parse_enum,
    plan_credit,
)
from ocs.service.actor import Actor, record_change
from ocs.service.ports import AuditEntry, Clock, Store, UnitOfWork
from ocs.service.voucher_ports import NewVoucher, RechargeFailures
from ocs.service.wallet_ledger import Ledger, LoadedWallet, operator_origin, totals

SECRET_KEY_SETTING = "voucher_secret_key"
SECRET_KEY_BYTES = 32


# -- inputs and views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoucherTypeInput:
    code: str
    name: str
    service_provider: str
    balances: Sequence[VoucherBalanceInput]
    description: str | None = None
    wallet_expiry_extension_days: int | None = None
    product_type_swap: str | None = None
    allowed_product_types: Sequence[str] = ()


@dataclass(frozen=True)
class BatchInput:
    voucher_type: str
    size: int
    expires_at: datetime
    description: str | None = None


@dataclass(frozen=True)
class BatchView:
    batch: VoucherBatch
    # Vouchers per state.
    counts: Mapping[VoucherState, int]


@dataclass(frozen=True)
class BatchCreated:
    """The one and only time the secrets are shown: print or export them now."""

    batch: VoucherBatch
    vouchers: list[IssuedVoucher]


@dataclass(frozen=True)
class RechargeRequest:
    """A voucher recharge for a subscriber given by id or by MSISDN. The secret stays out of
    repr so that it cannot reach a log."""

    voucher_number: str
    secret: str = field(repr=False)
    subscriber_id: int | None = None
    msisdn: str | None = None
    serial_number: str | None = None
    wallet_type: str = WalletType.PRIMARY.value


@dataclass(frozen=True)
class VoucherCredit:
    """What one balance type of a voucher type credited."""

    balance_type: str
    outcome: CreditOutcome
    accepted: int
    dropped: int
    expires_at: datetime | None


@dataclass(frozen=True)
class AppliedVoucher:
    edr: Edr
    credits: list[VoucherCredit]
    wallet_expires_at: datetime | None
    product_type: str


@dataclass(frozen=True)
class RechargeResult:
    voucher: Voucher
    wallet_id: int
    applied: AppliedVoucher


@dataclass(frozen=True)
class BlacklistView:
    subscriber_id: int
    blacklisted: bool
    consecutive_failures: int
    last_failed_at: datetime | None


class _CountedFailureError(Exception):
    """Rolls the recharge back; the failure is then counted in a transaction of its own."""

    def __init__(self, subscriber_id: int, failure: RechargeFailure) -> None:
        super().__init__(failure.value)
        self.subscriber_id = subscriber_id
        self.error = failure_error(failure)


# -- applying a voucher type to a wallet (recharges and credit transfers) -------------------------


def refuse_single_use(what: str) -> DomainError:
    return DomainError(
        ProblemKind.NOT_ALLOWED_IN_STATE, f"{what} is SINGLE_USE and cannot be recharged", "state"
    )


def apply_voucher_type(
    ledger: Ledger,
    w: LoadedWallet,
    voucher_type: VoucherType,
    edr_type: EdrType,
    tags: Mapping[str, str],
    detail: Mapping[str, object],
    field_name: str,
) -> AppliedVoucher:
    """Credit the voucher type's balances to a locked wallet under each balance type's maximum
    policy (REJECT refuses the whole voucher), extend the wallet's expiry, swap its product
    type, and write one EDR. Refused for wallets that may not be recharged in their state
    (FROZEN, TERMINATED, ...), SINGLE_USE wallets and product types the voucher type excludes."""
    wallet, now = w.wallet, ledger.now
    ledger.require(w, WalletAction.RECHARGE)
    if wallet.limit_type is LimitType.SINGLE_USE:
        raise refuse_single_use("the wallet")
    if not product_type_allowed(voucher_type.allowed_product_types, wallet.product_type):
        raise DomainError(
            ProblemKind.CONFLICT,
            f"voucher type {voucher_type.code!r} does not apply to product type "
            f"{wallet.product_type!r}",
            "product_type",
        )
    ledger.wake(w)
    before = totals(w.buckets)
    credits = []
    for item in voucher_type.balances:
        balance = ledger.ensure_balance(w, item.balance_type, field_name)
        if balance.limit_type is LimitType.SINGLE_USE:
            raise refuse_single_use(f"the {item.balance_type} balance")
        expires_at = bucket_expiry(item, now)
        decision = ledger.decide(w, item.balance_type, item.value, None, field_name)
        if decision.accepted:
            if item.expiry is BucketExpiry.EXTEND:
                assert expires_at is not None
                changes = plan_extend(
                    w.buckets, item.balance_type, decision.accepted, expires_at, now
                )
            else:
                changes = plan_credit(
                    w.buckets, item.balance_type, decision.accepted, now, None, expires_at
                )
            ledger.apply(w, changes)
        credits.append(
            VoucherCredit(
                item.balance_type, decision.outcome, decision.accepted, decision.dropped, expires_at
            )
        )
    edr_detail: dict[str, object] = dict(detail)
    dropped = {c.balance_type: c.dropped for c in credits if c.dropped}
    if dropped:
        edr_detail["dropped"] = dropped
    updated = wallet = w.wallet
    expiry = extended_wallet_expiry(
        wallet.expires_at, now, voucher_type.wallet_expiry_extension_days
    )
    if expiry != wallet.expires_at:
        assert expiry is not None
        ledger.history(w, HistoryEvent.EXPIRY_CHANGED, detail=expiry.isoformat())
        edr_detail["wallet_expires_at"] = {
            "from": None if wallet.expires_at is None else wallet.expires_at.isoformat(),
            "to": expiry.isoformat(),
        }
        updated = replace(updated, expires_at=expiry)
    swap = voucher_type.product_type_swap
    if swap is not None and swap != wallet.product_type:
        edr_detail["product_type"] = {"from": wallet.product_type, "to": swap}
        updated = replace(updated, product_type=swap)
    if updated != wallet:
        ledger.save_wallet(w, updated)
    touched = [item.balance_type for item in voucher_type.balances]
    edr = ledger.edr(w, edr_type, before, touched, edr_detail, tags=check_tags(tags))
    return AppliedVoucher(edr, credits, w.wallet.expires_at, w.wallet.product_type)


def visible_voucher_type(uow: UnitOfWork, actor: Actor, code: str, field_name: str) -> VoucherType:
    voucher_type = uow.vouchers.get_type(code)
    if voucher_type is None or not actor.may_use_provider(voucher_type.service_provider):
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"voucher type {code!r} does not exist", field_name
        )
    return voucher_type


def check_provider_product_types(
    uow: UnitOfWork, provider: str, codes: Sequence[str], field_name: str
) -> tuple[str, ...]:
    """Existing product types of the service provider, sorted and without repeats."""
    checked = check_product_types(codes, field_name)
    for code in checked:
        record = uow.config.get(ConfigKind.PRODUCT_TYPE, code)
        if record is None or record["service_provider"] != provider:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"product type {code!r} does not exist for service provider {provider!r}",
                field_name,
            )
    return checked


def check_visible_provider(uow: UnitOfWork, actor: Actor, provider: str) -> str:
    actor.require_provider(provider)
    if uow.config.get(ConfigKind.SERVICE_PROVIDER, provider) is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"service provider {provider!r} does not exist",
            "service_provider",
        )
    return provider


def linked_wallet_id(uow: UnitOfWork, subscriber_id: int, kind: WalletType, field_name: str) -> int:
    for link in uow.wallets.links_of_subscriber(subscriber_id):
        if link.wallet_type is kind:
            return link.wallet_id
    raise DomainError(
        ProblemKind.NOT_FOUND, f"subscriber {subscriber_id} has no {kind.value} wallet", field_name
    )


# -- the service -----------------------------------------------------------------------------------


class VoucherService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        secret_key: str | None = None,
        random_below: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        self.store = store
        self.clock = clock
        self._configured_key = secret_key
        self._key: bytes | None = None
        self._random_below = random_below

    # -- voucher types ---------------------------------------------------------------------------

    def create_type(self, actor: Actor, inp: VoucherTypeInput) -> VoucherType:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            provider = check_visible_provider(uow, actor, inp.service_provider.strip())
            voucher_type = self._checked_type(uow, inp, provider)
            if uow.vouchers.get_type(voucher_type.code) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"voucher type {voucher_type.code!r} already exists",
                    "code",
                )
            voucher_type = replace(voucher_type, id=uow.vouchers.insert_type(voucher_type))
            self._audit(uow, actor, "create", "voucher-type", voucher_type.code, inp)
            return voucher_type

    def update_type(self, actor: Actor, code: str, inp: VoucherTypeInput) -> VoucherType:
        """Replace a voucher type's settings; its code and service provider are immutable."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = visible_voucher_type(uow, actor, code, "code")
            if inp.code.strip() != current.code:
                raise DomainError(ProblemKind.IMMUTABLE_FIELD, "code cannot change", "code")
            if inp.service_provider.strip() != current.service_provider:
                raise DomainError(
                    ProblemKind.IMMUTABLE_FIELD,
                    "service_provider cannot change",
                    "service_provider",
                )
            voucher_type = replace(
                self._checked_type(uow, inp, current.service_provider), id=current.id
            )
            uow.vouchers.update_type(voucher_type)
            self._audit(uow, actor, "update", "voucher-type", code, inp)
            return voucher_type

    def get_type(self, actor: Actor, code: str) -> VoucherType:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            voucher_type = uow.vouchers.get_type(code)
            if voucher_type is None or not actor.may_use_provider(voucher_type.service_provider):
                raise not_found("voucher type", code)
            return voucher_type

    def list_types(self, actor: Actor) -> list[VoucherType]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.vouchers.list_types(actor.service_providers)

    def delete_type(self, actor: Actor, code: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            voucher_type = uow.vouchers.get_type(code)
            if voucher_type is None or not actor.may_use_provider(voucher_type.service_provider):
                raise not_found("voucher type", code)
            used = uow.vouchers.type_used_by(code)
            if used is not None:
                raise DomainError(
                    ProblemKind.IN_USE, f"voucher type {code!r} is still used by {used}", "code"
                )
            uow.vouchers.delete_type(code)
            self._audit(uow, actor, "delete", "voucher-type", code, {})

    def _checked_type(self, uow: UnitOfWork, inp: VoucherTypeInput, provider: str) -> VoucherType:
        balances = check_voucher_balances(inp.balances)
        for i, balance in enumerate(balances):
            if uow.config.get(ConfigKind.BALANCE_TYPE, balance.balance_type) is None:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"balance type {balance.balance_type!r} does not exist",
                    f"balances[{i}].balance_type",
                )
        swap = inp.product_type_swap.strip() if inp.product_type_swap else None
        if swap is not None:
            check_provider_product_types(uow, provider, [swap], "product_type_swap")
        return VoucherType(
            id=0,
            code=check_code(inp.code),
            name=check_name(inp.name),
            service_provider=provider,
            balances=balances,
            description=check_description(inp.description),
            wallet_expiry_extension_days=check_days(
                inp.wallet_expiry_extension_days, "wallet_expiry_extension_days"
            ),
            product_type_swap=swap,
            allowed_product_types=check_provider_product_types(
                uow, provider, inp.allowed_product_types, "allowed_product_types"
            ),
        )

    # -- batches ---------------------------------------------------------------------------------

    def create_batch(self, actor: Actor, inp: BatchInput) -> BatchCreated:
        """A CREATED batch of vouchers; the result carries each voucher's secret, which is
        never available again."""
        actor.require(Privilege.CREATE_DELETE)
        size = check_batch_size(inp.size)
        description = check_description(inp.description)
        key = self._secret_key()
        with self.store.transaction() as uow:
            now = self.clock.now()
            expires_at = check_batch_expiry(inp.expires_at, now)
            voucher_type = visible_voucher_type(uow, actor, inp.voucher_type, "voucher_type")
            batch = VoucherBatch(
                id=0,
                voucher_type=voucher_type.code,
                service_provider=voucher_type.service_provider,
                size=size,
                state=BatchState.CREATED,
                expires_at=expires_at,
                created_at=now,
                description=description,
            )
            batch = replace(batch, id=uow.vouchers.insert_batch(batch))
            issued = issue_vouchers(batch.id, size, self._random_below)
            uow.vouchers.insert_vouchers(
                batch.id,
                [
                    NewVoucher(v.number, v.serial_number, hash_secret(key, v.number, v.secret))
                    for v in issued
                ],
            )
            detail = {"voucher_type": batch.voucher_type, "size": size}
            record_change(uow, actor, now, "create", "voucher-batch", batch.id, detail)
            return BatchCreated(batch, issued)

    def list_batches(self, actor: Actor, voucher_type: str | None = None) -> list[BatchView]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            batches = uow.vouchers.list_batches(
                actor.service_providers, voucher_type, BATCH_LIST_ROWS_MAX
            )
            return [BatchView(b, uow.vouchers.batch_counts(b.id)) for b in batches]

    def get_batch(self, actor: Actor, batch_id: int) -> BatchView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            batch = self._batch(uow, actor, batch_id)
            return BatchView(batch, uow.vouchers.batch_counts(batch.id))

    def change_batch_state(self, actor: Actor, batch_id: int, state: str) -> BatchView:
        actor.require(Privilege.MODIFY)
        target = parse_enum(BatchState, state, "state")
        with self.store.transaction() as uow:
            batch = self._batch(uow, actor, batch_id, for_update=True)
            check_batch_transition(batch.state, target)
            uow.vouchers.set_batch_state(batch_id, target)
            detail = {"state": {"from": batch.state.value, "to": target.value}}
            self._audit(uow, actor, "state", "voucher-batch", batch_id, detail)
            batch = replace(batch, state=target)
            return BatchView(batch, uow.vouchers.batch_counts(batch.id))

    def _batch(
        self, uow: UnitOfWork, actor: Actor, batch_id: int, for_update: bool = False
    ) -> VoucherBatch:
        batch = uow.vouchers.get_batch(batch_id, for_update)
        if batch is None or not actor.may_use_provider(batch.service_provider):
            raise not_found("voucher batch", batch_id)
        return batch

    # -- vouchers --------------------------------------------------------------------------------

    def get_voucher(self, actor: Actor, number: str) -> Voucher:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return self._voucher(uow, actor, number)

    def change_voucher_state(self, actor: Actor, number: str, state: str) -> Voucher:
        """Freeze one voucher (a lost or stolen card) or make it AVAILABLE again."""
        actor.require(Privilege.MODIFY)
        target = parse_enum(VoucherState, state, "state")
        with self.store.transaction() as uow:
            voucher = self._voucher(uow, actor, number, for_update=True)
            check_voucher_transition(voucher.state, target)
            uow.vouchers.set_voucher_state(voucher.id, target)
            detail = {"state": {"from": voucher.state.value, "to": target.value}}
            self._audit(uow, actor, "state", "voucher", voucher.number, detail)
            return replace(voucher, state=target)

    def _voucher(
        self, uow: UnitOfWork, actor: Actor, number: str, for_update: bool = False
    ) -> Voucher:
        stored = uow.vouchers.get_voucher(number.strip(), for_update)
        if stored is None:
            raise not_found("voucher", number)
        self._batch(uow, actor, stored.voucher.batch_id)
        return stored.voucher

    # -- recharge --------------------------------------------------------------------------------

    def recharge(self, actor: Actor, request: RechargeRequest) -> RechargeResult:
        """Recharge a subscriber's wallet with a voucher, once. Attempts without a valid
        voucher (unknown number, wrong secret or serial number, already redeemed) count
        towards the blacklist even though they change nothing else."""
        actor.require(Privilege.MODIFY)
        number = check_voucher_number(request.voucher_number)
        secret = check_secret(request.secret)
        serial = check_serial_number(request.serial_number)
        kind = parse_enum(WalletType, request.wallet_type, "wallet_type")
        key = self._secret_key()
        try:
            with self.store.transaction() as uow:
                subscriber = self._recharged_subscriber(uow, actor, request)
                return self._recharge(uow, actor, subscriber, number, secret, serial, kind, key)
        except _CountedFailureError as failure:
            self._count_failure(failure.subscriber_id)
            raise failure.error from None

    def _recharge(
        self,
        uow: UnitOfWork,
        actor: Actor,
        subscriber: Subscriber,
        number: str,
        secret: str,
        serial: str | None,
        kind: WalletType,
        key: bytes,
    ) -> RechargeResult:
        now = self.clock.now()
        # One recharge per subscriber at a time, so that the failure counter stays exact.
        uow.features.lock_subscriber(subscriber.id)
        if serial is None and uow.features.get_details(subscriber.id).details.blacklisted:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                "the subscriber is blacklisted after failed voucher recharges: give the "
                "voucher's serial_number as well",
                "serial_number",
            )
        detail = {"subscriber": subscriber.id, "voucher_number": number}
        origin = operator_origin(uow, actor, now, "voucher-recharge", subscriber.id, detail)
        stored = uow.vouchers.get_voucher(number, for_update=True)
        batch = None if stored is None else uow.vouchers.get_batch(stored.voucher.batch_id)
        if stored is None or batch is None or batch.service_provider != subscriber.service_provider:
            raise _CountedFailureError(subscriber.id, RechargeFailure.UNKNOWN_VOUCHER)
        voucher = stored.voucher
        if not secret_matches(key, number, secret, stored.secret_hash):
            raise _CountedFailureError(subscriber.id, RechargeFailure.WRONG_SECRET)
        if serial is not None and serial != voucher.serial_number:
            raise _CountedFailureError(subscriber.id, RechargeFailure.WRONG_SERIAL)
        if voucher.state is VoucherState.REDEEMED:
            raise _CountedFailureError(subscriber.id, RechargeFailure.REDEEMED)
        error = usable_error(voucher, batch, now)
        if error is not None:
            raise error
        voucher_type = uow.vouchers.get_type(batch.voucher_type)
        assert voucher_type is not None
        wallet_id = linked_wallet_id(uow, subscriber.id, kind, "wallet_type")
        ledger = Ledger(uow, now, replace(origin, subscriber_id=subscriber.id))
        w = ledger.load(wallet_id)
        tags = {"VOUCHER": number, "BATCH": str(batch.id), "VOUCHER_TYPE": voucher_type.code}
        edr_detail = {"voucher": number, "batch": batch.id, "voucher_type": voucher_type.code}
        applied = apply_voucher_type(
            ledger, w, voucher_type, EdrType.RECHARGE, tags, edr_detail, "voucher_number"
        )
        if not uow.vouchers.redeem(voucher.id, subscriber.id, wallet_id, now):
            # The row lock makes this unreachable; kept as the guard of "credits once".
            raise _CountedFailureError(subscriber.id, RechargeFailure.REDEEMED)
        uow.vouchers.put_failures(subscriber.id, RechargeFailures())
        redeemed = replace(
            voucher,
            state=VoucherState.REDEEMED,
            redeemed_by=subscriber.id,
            redeemed_at=now,
            redeemed_wallet_id=wallet_id,
        )
        return RechargeResult(redeemed, wallet_id, applied)

    def _recharged_subscriber(
        self, uow: UnitOfWork, actor: Actor, request: RechargeRequest
    ) -> Subscriber:
        if request.subscriber_id is not None and request.msisdn is not None:
            raise invalid("msisdn", "give subscriber_id or msisdn, not both")
        if request.subscriber_id is not None:
            subscriber = uow.casm.get_subscriber(request.subscriber_id)
            if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
                raise DomainError(
                    ProblemKind.NOT_FOUND,
                    f"subscriber {request.subscriber_id} does not exist",
                    "subscriber_id",
                )
            return subscriber
        if request.msisdn is None or not request.msisdn.strip():
            raise DomainError(
                ProblemKind.MISSING_FIELD, "give subscriber_id or msisdn", "subscriber_id"
            )
        msisdn = request.msisdn.strip()
        found = []
        for subscriber_id in uow.vouchers.subscriber_ids_by_msisdn(msisdn):
            subscriber = uow.casm.get_subscriber(subscriber_id)
            if subscriber is not None and actor.may_use_provider(subscriber.service_provider):
                found.append(subscriber)
        if not found:
            raise DomainError(
                ProblemKind.NOT_FOUND, f"no subscriber has MSISDN {msisdn!r}", "msisdn"
            )
        if len(found) > 1:
            raise invalid("msisdn", f"MSISDN {msisdn!r} exists at several service providers")
        return found[0]

    def _count_failure(self, subscriber_id: int) -> None:
        """One more consecutive failure; the third blacklists the subscriber (through the
        subscriber details' Blacklisted flag, which operators see and clear there too)."""
        with self.store.transaction() as uow:
            now = self.clock.now()
            uow.features.lock_subscriber(subscriber_id)
            stored = uow.features.get_details(subscriber_id)
            current = uow.vouchers.get_failures(subscriber_id)
            count = after_failure(current.failures, stored.details.blacklisted)
            uow.vouchers.put_failures(subscriber_id, RechargeFailures(count.failures, now))
            if count.blacklisted and not stored.details.blacklisted:
                blacklisted = replace(stored.details, blacklisted=True)
                uow.features.put_details(subscriber_id, blacklisted, stored.pin_hash)
                # The system decides this, so no operator's change reason is required.
                uow.audit.append(
                    AuditEntry(
                        at=now,
                        operator="system",
                        action="blacklist",
                        entity="subscriber-details",
                        entity_key=str(subscriber_id),
                        change_reason=None,
                        detail={"blacklisted": True, "consecutive_failures": count.failures},
                    )
                )

    # -- blacklist -------------------------------------------------------------------------------

    def blacklist(self, actor: Actor, subscriber_id: int) -> BlacklistView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            self._subscriber(uow, actor, subscriber_id)
            return _blacklist_view(uow, subscriber_id)

    def clear_blacklist(self, actor: Actor, subscriber_id: int) -> BlacklistView:
        """Take the subscriber off the blacklist and reset the failure counter."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            self._subscriber(uow, actor, subscriber_id)
            uow.features.lock_subscriber(subscriber_id)
            stored = uow.features.get_details(subscriber_id)
            before = _blacklist_view(uow, subscriber_id)
            cleared = replace(stored.details, blacklisted=False)
            uow.features.put_details(subscriber_id, cleared, stored.pin_hash)
            uow.vouchers.put_failures(subscriber_id, RechargeFailures())
            detail = {
                "blacklisted": {"from": before.blacklisted, "to": False},
                "consecutive_failures": {"from": before.consecutive_failures, "to": 0},
            }
            self._audit(uow, actor, "clear", "voucher-blacklist", subscriber_id, detail)
            return _blacklist_view(uow, subscriber_id)

    def _subscriber(self, uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber:
        subscriber = uow.casm.get_subscriber(subscriber_id)
        if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
            raise not_found("subscriber", subscriber_id)
        return subscriber

    # -- shared ----------------------------------------------------------------------------------

    def _secret_key(self) -> bytes:
        """The HMAC key: from the settings (OCS_VOUCHER_SECRET_KEY) if configured, else one
        generated on first use and kept in the settings table, so that an embedded install
        works out of the box. Changing it makes every unredeemed voucher unusable."""
        if self._key is not None:
            return self._key
        if self._configured_key:
            self._key = self._configured_key.encode()
            return self._key
        try:
            with self.store.transaction() as uow:
                stored = uow.settings.get(SECRET_KEY_SETTING)
                if stored is None:
                    stored = secrets.token_urlsafe(SECRET_KEY_BYTES)
                    uow.settings.put(SECRET_KEY_SETTING, stored)
        except DomainError:
            # Another process stored its key first: use that one.
            with self.store.transaction() as uow:
                stored = uow.settings.get(SECRET_KEY_SETTING)
                assert stored is not None
        self._key = stored.encode()
        return self._key

    def _audit(
        self, uow: UnitOfWork, actor: Actor, action: str, entity: str, key: object, inp: object
    ) -> None:
        detail = _plain(inp) if not isinstance(inp, Mapping) else dict(inp)
        record_change(uow, actor, self.clock.now(), action, entity, key, detail)


def _blacklist_view(uow: UnitOfWork, subscriber_id: int) -> BlacklistView:
    details = uow.features.get_details(subscriber_id).details
    failures = uow.vouchers.get_failures(subscriber_id)
    return BlacklistView(
        subscriber_id, details.blacklisted, failures.failures, failures.last_failed_at
    )


def _plain(value: object) -> dict[str, object]:
    result: dict[str, object] = {}
    for name, item in vars(value).items():
        if isinstance(item, (list, tuple)):
            result[name] = [vars(x) if hasattr(x, "__dict__") else x for x in item]
        else:
            result[name] = item
    return result
