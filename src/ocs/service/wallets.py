"""Use cases for wallets: create and link, states and activation, balances and buckets,
top-ups, adjustments, direct debits (charges), merges and bucket expiry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind, UnitOfMeasure
from ocs.core.edr import Edr, EdrType, check_tags, check_text, encode_movements
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.money import convert_minor
from ocs.core.security import Privilege
from ocs.core.wallets import (
    Bucket,
    BucketChange,
    BucketPolicy,
    ChargeOutcome,
    CreditOutcome,
    ExpiryPolicy,
    HistoryEvent,
    LimitType,
    Wallet,
    WalletAction,
    WalletBalance,
    WalletHistoryEntry,
    WalletLink,
    WalletState,
    WalletType,
    available_value,
    change,
    check_adjustment,
    check_amount,
    check_bucket_dates,
    check_limit_type,
    check_max_concurrent_accesses,
    check_minimum_credit,
    check_wallet_transition,
    effective_limits,
    insufficient,
    merged_expiry,
    new_bucket,
    of_type,
    parse_enum,
    permitted,
    plan_bucket_merge,
    plan_debit,
    total_value,
)
from ocs.service.actor import Actor
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallet_ledger import (
    Ledger,
    LoadedWallet,
    Origin,
    WalletInput,
    check_wallet_currency,
    create_wallet,
    operator_origin,
    totals,
)

EXPIRY_BATCH_WALLETS_MAX = 1000
CHARGE_BALANCE_TYPES_MAX = 16


@dataclass(frozen=True)
class WalletUpdate:
    """Editable wallet fields; None keeps the current value."""

    currency: str | None = None
    display_currency: str | None = None
    max_concurrent_accesses: int | None = None
    expires_at: datetime | None = None
    clear_expiry: bool = False


@dataclass(frozen=True)
class BalanceInput:
    balance_type: str
    limit_type: str | None = None
    minimum_credit: int | None = None
    display_currency: str | None = None
    value: int = 0
    expires_at: datetime | None = None


@dataclass(frozen=True)
class BalanceUpdate:
    """Editable balance fields; None keeps the current value (a minimum credit is dropped
    when the limit type no longer takes one)."""

    limit_type: str | None = None
    minimum_credit: int | None = None
    display_currency: str | None = None


@dataclass(frozen=True)
class BucketEdit:
    """A bucket edit: the balance takes the new value. None keeps the current value."""

    value: int | None = None
    start_at: datetime | None = None
    expires_at: datetime | None = None
    clear_start: bool = False
    clear_expiry: bool = False


@dataclass(frozen=True)
class BalanceView:
    balance_type: str
    unit: str
    currency: str | None
    limit_type: LimitType
    minimum_credit: int | None
    display_currency: str | None
    # Everything held (what the EDRs sum to) and what charging can use now.
    total_value: int
    available_value: int
    # The available value in the display currency, for cash balances where a rate is known.
    display_value: int | None
    buckets: list[Bucket]


@dataclass(frozen=True)
class WalletView:
    wallet: Wallet
    links: list[WalletLink]
    balances: list[BalanceView]


@dataclass(frozen=True)
class CreditResult:
    """The EDR of a credit and how much the maximum balance let through."""

    edr: Edr
    outcome: CreditOutcome
    accepted: int
    dropped: int


@dataclass(frozen=True)
class ChargeRequest:
    """A direct debit for one event: amounts per balance type from one wallet of a subscriber."""

    subscriber_id: int
    amounts: Mapping[str, int]
    wallet_type: str = WalletType.PRIMARY.value
    called_number: str | None = None
    duration_s: int | None = None
    session_id: str | None = None
    discounts: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    partial: bool = False


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    wallet_id: int | None
    edr: Edr | None
    detail: str


@dataclass(frozen=True)
class MergeRequest:
    source_subscriber_id: int
    target_subscriber_id: int
    source_wallet_type: str = WalletType.PRIMARY.value
    target_wallet_type: str = WalletType.PRIMARY.value
    expiry_policy: str = ExpiryPolicy.BEST.value
    bucket_policy: str = BucketPolicy.MERGE.value


class _RefusedError(Exception):
    """Rolls a charge's unit of work back and carries the outcome out of it."""

    def __init__(self, outcome: ChargeOutcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class WalletService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- creating, linking, reading ------------------------------------------------------------

    def create_wallet(
        self, actor: Actor, subscriber_id: int, wallet_type: str, inp: WalletInput
    ) -> WalletView:
        """A new wallet for a subscriber: the primary if it has none, or a secondary one."""
        actor.require(Privilege.CREATE_DELETE)
        kind = parse_enum(WalletType, wallet_type, "wallet_type")
        with self.store.transaction() as uow:
            subscriber = _subscriber(uow, actor, subscriber_id)
            ledger = self._ledger(uow, actor, "create", subscriber_id, {"type": kind.value})
            w = create_wallet(ledger, subscriber, kind, inp)
            return _view(uow, w.wallet, ledger.now)

    def link_wallet(
        self, actor: Actor, subscriber_id: int, wallet_type: str, reference: str
    ) -> WalletView:
        """Link a subscriber to an existing wallet, which is then shared."""
        actor.require(Privilege.CREATE_DELETE)
        kind = parse_enum(WalletType, wallet_type, "wallet_type")
        with self.store.transaction() as uow:
            subscriber = _subscriber(uow, actor, subscriber_id)
            wallet = uow.wallets.wallet_by_reference(reference.strip())
            if wallet is None or wallet.service_provider != subscriber.service_provider:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"wallet reference {reference!r} does not exist",
                    "reference",
                )
            links = uow.wallets.links_of_subscriber(subscriber_id)
            if any(link.wallet_type is kind for link in links):
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"subscriber {subscriber_id} already has a {kind.value} wallet",
                    "wallet_type",
                )
            if any(link.wallet_id == wallet.id for link in links):
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"subscriber {subscriber_id} already uses wallet {reference!r}",
                    "reference",
                )
            if wallet.state is WalletState.TERMINATED:
                raise DomainError(
                    ProblemKind.NOT_ALLOWED_IN_STATE,
                    "a TERMINATED wallet cannot be linked",
                    "reference",
                )
            ledger = self._ledger(uow, actor, "link", wallet.id, {"subscriber": subscriber_id})
            w = ledger.load(wallet.id, expire=False)
            uow.wallets.insert_link(WalletLink(subscriber_id, kind, wallet.id), ledger.now)
            ledger.history(w, HistoryEvent.LINKED, detail=f"subscriber {subscriber_id}")
            return _view(uow, w.wallet, ledger.now)

    def subscriber_wallets(self, actor: Actor, subscriber_id: int) -> list[WalletView]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _subscriber(uow, actor, subscriber_id)
            now = self.clock.now()
            views = []
            for link in uow.wallets.links_of_subscriber(subscriber_id):
                wallet = uow.wallets.get_wallet(link.wallet_id)
                assert wallet is not None
                views.append(_view(uow, wallet, now))
            return views

    def get_wallet(
        self, actor: Actor, wallet_id: int, display_currency: str | None = None
    ) -> WalletView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            wallet = _wallet(uow, actor, wallet_id)
            return _view(uow, wallet, self.clock.now(), display_currency)

    def find_wallet(self, actor: Actor, reference: str) -> WalletView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            wallet = uow.wallets.wallet_by_reference(reference)
            if wallet is None or not actor.may_use_provider(wallet.service_provider):
                raise not_found("wallet", reference)
            return _view(uow, wallet, self.clock.now())

    def wallet_of_bucket(self, actor: Actor, bucket_id: int) -> WalletView:
        """The wallet holding a bucket (buckets are addressed on their own in TMF654)."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            wallet_id = uow.wallets.bucket_wallet_id(bucket_id)
            if wallet_id is None:
                raise not_found("bucket", bucket_id)
            try:
                wallet = _wallet(uow, actor, wallet_id)
            except DomainError:
                raise not_found("bucket", bucket_id) from None
            return _view(uow, wallet, self.clock.now())

    def history(self, actor: Actor, wallet_id: int) -> list[WalletHistoryEntry]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            return uow.wallets.list_history(wallet_id)

    # -- wallet fields, states, activation ---------------------------------------------------

    def update_wallet(self, actor: Actor, wallet_id: int, update: WalletUpdate) -> WalletView:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            ledger = self._ledger(uow, actor, "update", wallet_id, _fields(update))
            w = ledger.load(wallet_id)
            wallet = w.wallet
            if update.currency is not None and update.currency != wallet.currency:
                _currency(uow, update.currency, "currency")
                _check_currency_change(ledger, w, update.currency)
                wallet = replace(wallet, currency=update.currency)
            if update.display_currency is not None:
                _currency(uow, update.display_currency, "display_currency")
                wallet = replace(wallet, display_currency=update.display_currency)
            if update.max_concurrent_accesses is not None:
                accesses = check_max_concurrent_accesses(update.max_concurrent_accesses)
                wallet = replace(wallet, max_concurrent_accesses=accesses)
            expires_at = wallet.expires_at
            if update.clear_expiry:
                expires_at = None
            elif update.expires_at is not None:
                if update.expires_at.tzinfo is None:
                    raise invalid("expires_at", "expires_at must carry a time zone")
                expires_at = update.expires_at
            if expires_at != wallet.expires_at:
                ledger.history(w, HistoryEvent.EXPIRY_CHANGED, detail=_iso(expires_at))
                wallet = replace(wallet, expires_at=expires_at)
            ledger.save_wallet(w, wallet)
            return _view(uow, wallet, ledger.now)

    def change_state(self, actor: Actor, wallet_id: int, state: str) -> WalletView:
        """Move a wallet to another state; PRE_USE -> ACTIVE is the activation."""
        actor.require(Privilege.MODIFY)
        target = parse_enum(WalletState, state, "state")
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            ledger = self._ledger(uow, actor, "state", wallet_id, {"state": target.value})
            w = ledger.load(wallet_id)
            check_wallet_transition(w.wallet.state, target)
            if w.wallet.state is WalletState.PRE_USE and target is WalletState.ACTIVE:
                ledger.activate(w)
            else:
                ledger.set_state(w, target)
            return _view(uow, w.wallet, ledger.now)

    def activate(self, actor: Actor, wallet_id: int) -> WalletView:
        """Operator activation of a PRE_USE wallet, applying the activation promotion."""
        return self.change_state(actor, wallet_id, WalletState.ACTIVE.value)

    def first_use(self, wallet_id: int) -> Wallet:
        """The first chargeable use of a wallet activates it when it is PRE_USE (for the
        charging engine, which then reserves or debits)."""
        with self.store.transaction() as uow:
            ledger = Ledger(uow, self.clock.now())
            w = ledger.load(wallet_id)
            if w.wallet.state is WalletState.PRE_USE:
                ledger.activate(w)
            return w.wallet

    # -- balances and buckets -------------------------------------------------------------------

    def add_balance(self, actor: Actor, wallet_id: int, inp: BalanceInput) -> WalletView:
        """Add a balance type to a wallet (it cannot be deleted afterwards), optionally with
        a first bucket."""
        actor.require(Privilege.MODIFY)
        check_amount(inp.value, "value", allow_zero=True)
        if inp.value < 0:
            raise invalid("value", "value must not be negative")
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            ledger = self._ledger(uow, actor, "add-balance", wallet_id, _fields(inp))
            w = ledger.load(wallet_id)
            if inp.balance_type in w.balances:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"the wallet already has a {inp.balance_type} balance",
                    "balance_type",
                )
            balance = self._balance_settings(
                ledger,
                w,
                inp.balance_type,
                inp.limit_type,
                inp.minimum_credit,
                inp.display_currency,
                None,
            )
            check_wallet_currency(w.wallet, ledger.balance_type(inp.balance_type), "balance_type")
            uow.wallets.insert_balance(balance)
            w.balances[balance.balance_type] = balance
            if inp.value > 0:
                ledger.require(w, WalletAction.ADJUST)
                check_bucket_dates(None, inp.expires_at, ledger.now)
                before = totals(w.buckets)
                decision = ledger.decide(w, inp.balance_type, inp.value, None, "value")
                ids = ledger.apply(
                    w, [new_bucket(inp.balance_type, decision.accepted, None, inp.expires_at)]
                )
                detail = {"action": "add-balance", "bucket": ids[0], "dropped": decision.dropped}
                ledger.edr(w, EdrType.BALANCE_EDIT, before, [inp.balance_type], detail)
            return _view(uow, w.wallet, ledger.now)

    def update_balance(
        self, actor: Actor, wallet_id: int, balance_type: str, update: BalanceUpdate
    ) -> WalletView:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            detail = {"balance_type": balance_type, **_fields(update)}
            ledger = self._ledger(uow, actor, "update-balance", wallet_id, detail)
            w = ledger.load(wallet_id)
            current = w.balances.get(balance_type)
            if current is None:
                raise not_found("balance", balance_type)
            balance = self._balance_settings(
                ledger,
                w,
                balance_type,
                update.limit_type,
                update.minimum_credit,
                update.display_currency,
                current,
            )
            available = available_value(of_type(w.buckets, balance_type), ledger.now)
            if balance.floor is not None and available < balance.floor:
                raise invalid(
                    "limit_type",
                    f"the {balance_type} balance ({available}) is below the floor "
                    f"{balance.floor} of {balance.limit_type.value}",
                )
            uow.wallets.update_balance(balance)
            return _view(uow, w.wallet, ledger.now)

    def add_bucket(
        self,
        actor: Actor,
        wallet_id: int,
        balance_type: str,
        value: int,
        start_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> CreditResult:
        """A new bucket: its value adds to the balance (under the maximum-balance policy)."""
        actor.require(Privilege.MODIFY)
        check_amount(value, "value")
        if value < 0:
            raise invalid("value", "value must be positive")
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            detail = {"balance_type": balance_type, "value": value}
            ledger = self._ledger(uow, actor, "add-bucket", wallet_id, detail)
            check_bucket_dates(start_at, expires_at, ledger.now)
            w = ledger.load(wallet_id)
            ledger.require(w, WalletAction.ADJUST)
            ledger.ensure_balance(w, balance_type)
            before = totals(w.buckets)
            decision = ledger.decide(w, balance_type, value, start_at, "value")
            ids = ledger.apply(
                w, [new_bucket(balance_type, decision.accepted, start_at, expires_at)]
            )
            edr_detail = {"action": "add", "bucket": ids[0], "dropped": decision.dropped}
            edr = ledger.edr(w, EdrType.BALANCE_EDIT, before, [balance_type], edr_detail)
            return CreditResult(edr, decision.outcome, decision.accepted, decision.dropped)

    def edit_bucket(
        self, actor: Actor, wallet_id: int, bucket_id: int, edit: BucketEdit
    ) -> CreditResult:
        """Change a bucket: the balance takes the new value; dates follow the bucket rules."""
        actor.require(Privilege.MODIFY)
        if edit.value is not None:
            check_amount(edit.value, "value", allow_zero=True)
            if edit.value < 0:
                raise invalid("value", "value must not be negative")
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            detail = {"bucket": bucket_id, **_fields(edit)}
            ledger = self._ledger(uow, actor, "edit-bucket", wallet_id, detail)
            w = ledger.load(wallet_id)
            ledger.require(w, WalletAction.ADJUST)
            bucket = _bucket(w, bucket_id)
            updated = _edited(bucket, edit, ledger.now)
            before = totals(w.buckets)
            outcome, dropped = CreditOutcome.ACCEPTED, 0
            increase = updated.value - bucket.value
            if increase > 0 and updated.is_available(ledger.now):
                decision = ledger.decide(w, bucket.balance_type, increase, None, "value")
                updated = replace(updated, value=bucket.value + decision.accepted)
                outcome, dropped = decision.outcome, decision.dropped
            ledger.replace_bucket(w, updated)
            _check_floor(w, bucket.balance_type, ledger.now, "value")
            edr_detail = {"action": "edit", "bucket": bucket_id, "dropped": dropped}
            edr = ledger.edr(w, EdrType.BALANCE_EDIT, before, [bucket.balance_type], edr_detail)
            return CreditResult(edr, outcome, updated.value - bucket.value, dropped)

    def delete_bucket(self, actor: Actor, wallet_id: int, bucket_id: int) -> Edr:
        """Remove a bucket; its value leaves the balance."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            ledger = self._ledger(uow, actor, "delete-bucket", wallet_id, {"bucket": bucket_id})
            w = ledger.load(wallet_id)
            ledger.require(w, WalletAction.ADJUST)
            bucket = _bucket(w, bucket_id)
            before = totals(w.buckets)
            ledger.apply(w, [change(bucket, -bucket.value)], drop_empty=True)
            _check_floor(w, bucket.balance_type, ledger.now, "bucket_id")
            detail = {"action": "delete", "bucket": bucket_id}
            return ledger.edr(w, EdrType.BALANCE_EDIT, before, [bucket.balance_type], detail)

    # -- credits and debits ----------------------------------------------------------------------

    def top_up(
        self,
        actor: Actor,
        wallet_id: int,
        balance_type: str,
        amount: int,
        expires_at: datetime | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> CreditResult:
        """Recharge a balance (TMF654 topupBalance)."""
        actor.require(Privilege.MODIFY)
        check_amount(amount, "amount")
        if amount < 0:
            raise invalid("amount", "a top-up amount must be positive")
        checked_tags = check_tags(tags or {})
        with self.store.transaction() as uow:
            _wallet(uow, actor, wallet_id)
            detail = {"balance_type": balance_type, "amount": amount}
            ledger = self._ledger(uow, actor, "top-up", wallet_id, detail)
            check_bucket_dates(None, expires_at, ledger.now)
            w = ledger.load(wallet_id)
            ledger.require(w, WalletAction.RECHARGE)
            balance = ledger.ensure_balance(w, balance_type)
            if balance.limit_type is LimitType.SINGLE_USE:
                raise DomainError(
                    ProblemKind.NOT_ALLOWED_IN_STATE,
                    f"the {balance_type} balance is SINGLE_USE and cannot be recharged",
                    "balance_type",
                )
            ledger.wake(w)
            return self._credit(
                ledger, w, EdrType.RECHARGE, balance_type, amount, expires_at, checked_tags
            )

    def adjust(
        self,
        actor: Actor,
        wallet_id: int,
        balance_type: str,
        amount: int,
        expires_at: datetime | None = None,
    ) -> CreditResult:
        """A signed adjustment within the operator's (else the product type's) limits
        (TMF654 adjustBalance)."""
        actor.require(Privilege.MODIFY)
        check_amount(amount, "amount")
        with self.store.transaction() as uow:
            wallet = _wallet(uow, actor, wallet_id)
            detail = {"balance_type": balance_type, "amount": amount}
            ledger = self._ledger(uow, actor, "adjust", wallet_id, detail)
            ledger.balance_type(balance_type)
            settings = uow.wallet_settings
            product = settings.adjustment_limits(wallet.product_type, balance_type, None)
            own = settings.adjustment_limits(wallet.product_type, balance_type, actor.username)
            limits = effective_limits(
                None if product is None else product.limits, None if own is None else own.limits
            )
            check_adjustment(amount, limits, balance_type)
            if expires_at is not None and amount < 0:
                raise invalid("expires_at", "expires_at applies only to positive adjustments")
            check_bucket_dates(None, expires_at, ledger.now)
            w = ledger.load(wallet_id)
            ledger.require(w, WalletAction.ADJUST)
            ledger.ensure_balance(w, balance_type)
            if amount > 0:
                return self._credit(
                    ledger, w, EdrType.ADJUSTMENT, balance_type, amount, expires_at, ()
                )
            before = totals(w.buckets)
            changes = _debit(w, balance_type, -amount, ledger.now)
            ledger.apply(w, changes, drop_empty=True)
            edr = ledger.edr(w, EdrType.ADJUSTMENT, before, [balance_type])
            return CreditResult(edr, CreditOutcome.ACCEPTED, amount, 0)

    def charge(self, request: ChargeRequest, actor: Actor | None = None) -> ChargeResult:
        """Debit a wallet for one event. Refusals come back as outcomes and change nothing;
        the first chargeable use of a PRE_USE wallet activates it; use wakes a DORMANT one.
        Without an actor the charge comes from the network (no operator on the EDR)."""
        if actor is not None:
            actor.require(Privilege.EXECUTE)
        kind = parse_enum(WalletType, request.wallet_type, "wallet_type")
        amounts = _check_charge(request)
        try:
            return self._charge(request, actor, kind, amounts)
        except _RefusedError as refused:
            wallet_id = self._wallet_of(request.subscriber_id, kind)
            return ChargeResult(refused.outcome, wallet_id, None, refused.detail)

    def _charge(
        self,
        request: ChargeRequest,
        actor: Actor | None,
        kind: WalletType,
        amounts: dict[str, int],
    ) -> ChargeResult:
        with self.store.transaction() as uow:
            now = self.clock.now()
            if actor is None:
                origin = Origin(subscriber_id=request.subscriber_id)
            else:
                _subscriber(uow, actor, request.subscriber_id)
                detail = {"subscriber": request.subscriber_id, "amounts": amounts}
                origin = operator_origin(uow, actor, now, "charge", request.subscriber_id, detail)
                origin = replace(origin, subscriber_id=request.subscriber_id)
            wallet_id = _linked_wallet(uow, request.subscriber_id, kind)
            ledger = Ledger(uow, now, origin)
            w = ledger.load(wallet_id)
            for code in amounts:
                ledger.balance_type(code, "amounts")
            if not permitted(w.wallet.state, WalletAction.CHARGE, ledger.overrides(w.wallet)):
                raise _RefusedError(
                    ChargeOutcome.NOT_ALLOWED_IN_STATE,
                    f"a {w.wallet.state.value} wallet cannot be charged",
                )
            if w.wallet.is_expired(now):
                raise _RefusedError(ChargeOutcome.WALLET_EXPIRED, "the wallet has expired")
            if w.wallet.state is WalletState.PRE_USE:
                try:
                    ledger.activate(w)
                except DomainError as error:
                    if error.kind is not ProblemKind.MAXIMUM_BALANCE_EXCEEDED:
                        raise
                    outcome = ChargeOutcome.MAXIMUM_BALANCE_EXCEEDED
                    raise _RefusedError(outcome, error.detail) from None
            ledger.wake(w)
            before = totals(w.buckets)
            applied: list[BucketChange] = []
            ids: list[int] = []
            for code, amount in amounts.items():
                try:
                    changes = _debit(w, code, amount, now)
                except DomainError as error:
                    raise _RefusedError(ChargeOutcome.INSUFFICIENT_BALANCE, error.detail) from None
                ids += ledger.apply(w, changes, drop_empty=True)
                applied += changes
            ledger.save_wallet(w, replace(w.wallet, last_used_at=now))
            edr = ledger.edr(
                w,
                EdrType.CHARGE,
                before,
                amounts,
                {"buckets": encode_movements(applied, ids)},
                tags=check_tags(request.tags),
                called_number=check_text(request.called_number, "called_number"),
                duration_s=request.duration_s,
                session_id=check_text(request.session_id, "session_id"),
                discounts=check_text(request.discounts, "discounts"),
                partial=request.partial,
            )
            return ChargeResult(ChargeOutcome.CHARGED, wallet_id, edr, "charged")

    def _wallet_of(self, subscriber_id: int, kind: WalletType) -> int | None:
        with self.store.transaction() as uow:
            for link in uow.wallets.links_of_subscriber(subscriber_id):
                if link.wallet_type is kind:
                    return link.wallet_id
        return None

    # -- merge -----------------------------------------------------------------------------------

    def merge(self, actor: Actor, request: MergeRequest) -> WalletView:
        """Merge one source wallet into one target wallet; afterwards both subscribers share
        the target (or, for a missing secondary target, the source) wallet."""
        actor.require(Privilege.CREATE_DELETE)
        source_type = parse_enum(WalletType, request.source_wallet_type, "source_wallet_type")
        target_type = parse_enum(WalletType, request.target_wallet_type, "target_wallet_type")
        expiry_policy = parse_enum(ExpiryPolicy, request.expiry_policy, "expiry_policy")
        bucket_policy = parse_enum(BucketPolicy, request.bucket_policy, "bucket_policy")
        with self.store.transaction() as uow:
            source_sub = _subscriber(
                uow, actor, request.source_subscriber_id, "source_subscriber_id"
            )
            target_sub = _subscriber(
                uow, actor, request.target_subscriber_id, "target_subscriber_id"
            )
            source_id = _linked_wallet(uow, source_sub.id, source_type, "source_wallet_type")
            target_id = _optional_link(uow, target_sub.id, target_type)
            if target_id is None and (
                target_type is WalletType.PRIMARY or source_sub.id == target_sub.id
            ):
                raise _not_found_field(
                    f"subscriber {target_sub.id} has no {target_type.value} wallet",
                    "target_wallet_type",
                )
            if target_id == source_id:
                raise invalid(
                    "source_wallet_type", "source and target are the same wallet: nothing to merge"
                )
            detail = {
                "source": f"{source_sub.id}/{source_type.value}",
                "target": f"{target_sub.id}/{target_type.value}",
                "expiry_policy": expiry_policy.value,
                "bucket_policy": bucket_policy.value,
            }
            ledger = self._ledger(uow, actor, "merge", source_id, detail)
            ledger.origin = replace(ledger.origin, subscriber_id=source_sub.id)
            # Lock in id order so that two merges of the same pair cannot deadlock.
            ids = sorted({source_id, target_id or source_id})
            loaded = {wallet_id: ledger.load(wallet_id) for wallet_id in ids}
            source = loaded[source_id]
            ledger.require(source, WalletAction.MERGE)
            if source.wallet.state is WalletState.PRE_USE:
                ledger.activate(source)
            if target_id is None:
                return self._share_source(ledger, source, target_sub, detail)
            target = loaded[target_id]
            ledger.require(target, WalletAction.MERGE)
            if source.wallet.service_provider != target.wallet.service_provider:
                raise invalid("target_subscriber_id", "the wallets belong to different providers")
            if source.wallet.currency != target.wallet.currency:
                raise invalid(
                    "target_wallet_type",
                    f"the source wallet holds {source.wallet.currency}, "
                    f"the target {target.wallet.currency}",
                )
            self._merge_into(ledger, source, target, bucket_policy, expiry_policy, detail)
            return _view(uow, target.wallet, ledger.now)

    def _share_source(
        self,
        ledger: Ledger,
        source: LoadedWallet,
        target_sub: Subscriber,
        detail: Mapping[str, object],
    ) -> WalletView:
        """A secondary target that does not exist yet: the target subscriber shares the
        source wallet, which keeps its own state."""
        link = WalletLink(target_sub.id, WalletType.SECONDARY, source.wallet.id)
        ledger.uow.wallets.insert_link(link, ledger.now)
        ledger.history(source, HistoryEvent.LINKED, detail=f"subscriber {target_sub.id}")
        ledger.edr(source, EdrType.MERGE, {}, (), {**detail, "shared": True})
        return _view(ledger.uow, source.wallet, ledger.now)

    def _merge_into(
        self,
        ledger: Ledger,
        source: LoadedWallet,
        target: LoadedWallet,
        bucket_policy: BucketPolicy,
        expiry_policy: ExpiryPolicy,
        detail: Mapping[str, object],
    ) -> None:
        uow = ledger.uow
        for code, balance in source.balances.items():
            if code not in target.balances:
                copied = replace(balance, wallet_id=target.wallet.id)
                uow.wallets.insert_balance(copied)
                target.balances[code] = copied
        touched = {b.balance_type for b in source.buckets}
        source_before, target_before = totals(source.buckets), totals(target.buckets)
        plan = plan_bucket_merge(source.buckets, target.buckets, bucket_policy, ledger.now)
        ledger.apply(target, plan)
        for code in touched:
            # Debt merged into a target balance must stay above that balance's floor.
            _check_floor(target, code, ledger.now, "source_wallet_type")
        emptied = [change(b, -b.value) for b in source.buckets if b.value != 0]
        ledger.apply(source, emptied, drop_empty=True)
        into = {**detail, "into_wallet": target.wallet.id}
        ledger.edr(source, EdrType.MERGE, source_before, touched, into)
        from_ = {**detail, "from_wallet": source.wallet.id}
        ledger.edr(target, EdrType.MERGE, target_before, touched, from_)
        expiry = merged_expiry(target.wallet.expires_at, source.wallet.expires_at, expiry_policy)
        if expiry != target.wallet.expires_at:
            ledger.history(target, HistoryEvent.EXPIRY_CHANGED, detail=_iso(expiry))
            ledger.save_wallet(target, replace(target.wallet, expires_at=expiry))
        holders = {link.subscriber_id for link in uow.wallets.links_of_wallet(target.wallet.id)}
        for link in uow.wallets.links_of_wallet(source.wallet.id):
            uow.wallets.delete_link(link.subscriber_id, link.wallet_type)
            if link.subscriber_id in holders:
                continue  # the subscriber already uses the target wallet
            moved = WalletLink(link.subscriber_id, link.wallet_type, target.wallet.id)
            uow.wallets.insert_link(moved, ledger.now)
            holders.add(link.subscriber_id)
        ledger.history(target, HistoryEvent.MERGED, detail=f"from wallet {source.wallet.reference}")
        uow.wallets.delete_wallet(source.wallet.id)

    # -- expiry --------------------------------------------------------------------------------

    def expire_buckets(
        self, actor: Actor | None = None, wallets_max: int = EXPIRY_BATCH_WALLETS_MAX
    ) -> int:
        """Remove expired buckets from up to wallets_max wallets, one transaction per wallet;
        returns how many EXPIRY EDRs were written."""
        if actor is not None:
            actor.require(Privilege.EXECUTE)
        with self.store.transaction() as uow:
            ids = uow.wallets.wallets_with_expired_buckets(self.clock.now(), wallets_max)
        written = 0
        for wallet_id in ids:
            with self.store.transaction() as uow:
                if uow.wallets.get_wallet(wallet_id) is None:
                    continue  # deleted or merged away meanwhile
                ledger = Ledger(uow, self.clock.now())
                ledger.load(wallet_id)
                written += len(ledger.written)
        return written

    # -- shared --------------------------------------------------------------------------------

    def _credit(
        self,
        ledger: Ledger,
        w: LoadedWallet,
        edr_type: EdrType,
        balance_type: str,
        amount: int,
        expires_at: datetime | None,
        tags: tuple[tuple[str, str], ...],
    ) -> CreditResult:
        before = totals(w.buckets)
        changes, decision = ledger.credit_changes(w, balance_type, amount, None, expires_at)
        ledger.apply(w, changes)
        detail = {"dropped": decision.dropped} if decision.dropped else {}
        edr = ledger.edr(w, edr_type, before, [balance_type], detail, tags=tags)
        return CreditResult(edr, decision.outcome, decision.accepted, decision.dropped)

    def _ledger(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: str,
        key: object,
        detail: Mapping[str, object],
    ) -> Ledger:
        now = self.clock.now()
        return Ledger(uow, now, operator_origin(uow, actor, now, action, key, detail))

    def _balance_settings(
        self,
        ledger: Ledger,
        w: LoadedWallet,
        balance_type: str,
        limit_type: str | None,
        minimum_credit: int | None,
        display_currency: str | None,
        current: WalletBalance | None,
    ) -> WalletBalance:
        """Validated settings of a new (current None) or edited balance."""
        record = ledger.balance_type(balance_type)
        product = ledger.product_type(w.wallet.product_type)
        is_default = product.get("default_balance_type") == balance_type
        if limit_type is not None:
            kind = parse_enum(LimitType, limit_type, "limit_type")
        elif current is not None:
            kind = current.limit_type
        else:
            kind = w.wallet.limit_type if is_default else LimitType.PREPAID
        check_limit_type(kind, is_default, bool(record["allow_credit"]))
        if minimum_credit is None and kind is LimitType.LIMITED_POSTPAID:
            # Keep the balance's own minimum credit; a new default balance takes the wallet's.
            if current is not None:
                minimum_credit = current.minimum_credit
            elif is_default:
                minimum_credit = w.wallet.minimum_credit
        shown = display_currency or (None if current is None else current.display_currency)
        if shown is not None:
            if record["unit"] != UnitOfMeasure.MONEY.value:
                raise invalid("display_currency", "a display currency applies to cash balances")
            _currency(ledger.uow, shown, "display_currency")
        return WalletBalance(
            w.wallet.id, balance_type, kind, check_minimum_credit(kind, minimum_credit), shown
        )


# -- helpers ---------------------------------------------------------------------------------


def _not_found_field(detail: str, field_name: str) -> DomainError:
    return DomainError(ProblemKind.NOT_FOUND, detail, field_name)


def _subscriber(
    uow: UnitOfWork, actor: Actor, subscriber_id: int, field_name: str | None = None
) -> Subscriber:
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
        raise DomainError(
            ProblemKind.NOT_FOUND, f"subscriber {subscriber_id} does not exist", field_name
        )
    return subscriber


def _wallet(uow: UnitOfWork, actor: Actor, wallet_id: int) -> Wallet:
    wallet = uow.wallets.get_wallet(wallet_id)
    if wallet is None or not actor.may_use_provider(wallet.service_provider):
        raise not_found("wallet", wallet_id)
    return wallet


def _optional_link(uow: UnitOfWork, subscriber_id: int, kind: WalletType) -> int | None:
    for link in uow.wallets.links_of_subscriber(subscriber_id):
        if link.wallet_type is kind:
            return link.wallet_id
    return None


def _linked_wallet(
    uow: UnitOfWork, subscriber_id: int, kind: WalletType, field_name: str = "wallet_type"
) -> int:
    wallet_id = _optional_link(uow, subscriber_id, kind)
    if wallet_id is None:
        raise _not_found_field(f"subscriber {subscriber_id} has no {kind.value} wallet", field_name)
    return wallet_id


def _currency(uow: UnitOfWork, code: str, field_name: str) -> None:
    if uow.config.get(ConfigKind.CURRENCY, code) is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"{field_name} {code!r} does not exist", field_name
        )


def _check_currency_change(ledger: Ledger, w: LoadedWallet, currency: str) -> None:
    for code in w.balances:
        record = ledger.balance_type(code)
        if record["unit"] == UnitOfMeasure.MONEY.value and record["currency"] != currency:
            raise DomainError(
                ProblemKind.CONFLICT,
                f"the wallet has a {code} balance in {record['currency']}",
                "currency",
            )


def _bucket(w: LoadedWallet, bucket_id: int) -> Bucket:
    for bucket in w.buckets:
        if bucket.id == bucket_id:
            return bucket
    raise not_found("bucket", bucket_id)


def _edited(bucket: Bucket, edit: BucketEdit, now: datetime) -> Bucket:
    start_at = None if edit.clear_start else (edit.start_at or bucket.start_at)
    expires_at = None if edit.clear_expiry else (edit.expires_at or bucket.expires_at)
    # Only dates that change are checked against now; an unchanged past start is fine.
    check_bucket_dates(
        start_at if start_at != bucket.start_at else None,
        expires_at if expires_at != bucket.expires_at else None,
        now,
    )
    if start_at is not None and expires_at is not None and start_at >= expires_at:
        raise invalid("start_at", "start_at must be before expires_at")
    value = bucket.value if edit.value is None else edit.value
    return replace(bucket, value=value, start_at=start_at, expires_at=expires_at)


def _check_floor(w: LoadedWallet, balance_type: str, now: datetime, field_name: str) -> None:
    balance = w.balances.get(balance_type)
    floor = 0 if balance is None else balance.floor
    available = available_value(of_type(w.buckets, balance_type), now)
    if floor is not None and available < floor:
        error = insufficient(balance_type, 0, available, floor)
        raise DomainError(
            error.kind,
            f"the {balance_type} balance would be {available}, below its floor {floor}",
            field_name,
        )


def _debit(w: LoadedWallet, balance_type: str, amount: int, now: datetime) -> list[BucketChange]:
    balance = w.balances.get(balance_type)
    floor = 0 if balance is None else balance.floor
    changes = plan_debit(w.buckets, balance_type, amount, now, floor)
    if changes is None:
        available = available_value(of_type(w.buckets, balance_type), now)
        raise insufficient(balance_type, amount, available, floor)
    return changes


def _check_charge(request: ChargeRequest) -> dict[str, int]:
    if not request.amounts:
        raise DomainError(ProblemKind.MISSING_FIELD, "amounts is required", "amounts")
    if len(request.amounts) > CHARGE_BALANCE_TYPES_MAX:
        raise invalid("amounts", f"at most {CHARGE_BALANCE_TYPES_MAX} balance types per charge")
    amounts = {}
    for code, amount in request.amounts.items():
        check_amount(amount, "amounts")
        if amount < 0:
            raise invalid("amounts", f"the {code} amount must be positive")
        amounts[code] = amount
    if request.duration_s is not None and request.duration_s < 0:
        raise invalid("duration_s", "duration_s must not be negative")
    check_tags(request.tags)
    return amounts


def _view(
    uow: UnitOfWork, wallet: Wallet, now: datetime, display_currency: str | None = None
) -> WalletView:
    if display_currency is not None:
        _currency(uow, display_currency, "display_currency")
    buckets = uow.wallets.list_buckets(wallet.id)
    balances = {b.balance_type: b for b in uow.wallets.list_balances(wallet.id)}
    views = []
    for code in sorted(balances):
        balance = balances[code]
        record = uow.config.get(ConfigKind.BALANCE_TYPE, code)
        assert record is not None
        own = of_type(buckets, code)
        available = available_value(own, now)
        currency = None if record["currency"] is None else str(record["currency"])
        shown = display_currency or balance.display_currency or wallet.display_currency
        views.append(
            BalanceView(
                balance_type=code,
                unit=str(record["unit"]),
                currency=currency,
                limit_type=balance.limit_type,
                minimum_credit=balance.minimum_credit,
                display_currency=shown if currency is not None else None,
                total_value=total_value(own),
                available_value=available,
                display_value=_display(uow, available, currency, shown, display_currency),
                buckets=own,
            )
        )
    return WalletView(wallet, uow.wallets.links_of_wallet(wallet.id), views)


def _display(
    uow: UnitOfWork, value: int, currency: str | None, shown: str, explicit: str | None
) -> int | None:
    """A cash value in the display currency; an explicitly requested currency needs a rate."""
    if currency is None:
        return None
    if currency == shown:
        return value
    rate = uow.wallet_settings.exchange_rate(currency, shown)
    if rate is None:
        if explicit is not None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"no exchange rate from {currency} to {shown} is configured",
                "display_currency",
            )
        return None
    return convert_minor(value, _scale(uow, currency), _scale(uow, shown), rate.rate_nano)


def _scale(uow: UnitOfWork, currency: str) -> int:
    record = uow.config.get(ConfigKind.CURRENCY, currency)
    assert record is not None
    return int(str(record["scale"]))


def _fields(value: object) -> dict[str, object]:
    return {k: v for k, v in vars(value).items() if v is not None and v is not False}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
