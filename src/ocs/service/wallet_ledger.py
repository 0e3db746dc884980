"""Wallet internals for one unit of work: lock and load a wallet, expire its buckets, apply
bucket changes and write the EDR for every financial or state change in the same transaction.

The wallet use cases, EDR reversal and subscriber creation/deletion all go through here, so
the rule "a balance equals the sum of its EDR deltas" holds by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind, MaximumBalancePolicy, Record, UnitOfMeasure
from ocs.core.edr import BalanceLine, Edr, EdrType, unit_class
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.records import copy_with
from ocs.core.security import check_change_reason
from ocs.core.wallets import (
    Bucket,
    BucketChange,
    CreditDecision,
    CreditOutcome,
    HistoryEvent,
    LimitType,
    PermissionOverrides,
    Wallet,
    WalletAction,
    WalletBalance,
    WalletHistoryEntry,
    WalletLink,
    WalletState,
    WalletType,
    available_value,
    change,
    check_max_concurrent_accesses,
    check_minimum_credit,
    check_permitted,
    check_reference,
    decide_credit,
    generated_reference,
    maximum_exceeded,
    of_type,
    parse_enum,
    plan_credit,
)
from ocs.service.actor import Actor, record_change
from ocs.service.ports import UnitOfWork

DEFAULT_MAX_CONCURRENT_ACCESSES = 1


@dataclass(frozen=True)
class Origin:
    """Who makes a change (None: the system or the network) and for which subscriber."""

    operator: str | None = None
    change_reason: str | None = None
    subscriber_id: int | None = None


SYSTEM_ORIGIN = Origin()


def actor_origin(actor: Actor, subscriber_id: int | None = None) -> Origin:
    """The origin of a change that the calling use case has audited already."""
    reason = check_change_reason(actor.change_reason, False)
    return Origin(actor.username, reason, subscriber_id)


def operator_origin(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    action: str,
    key: object,
    detail: Mapping[str, object],
) -> Origin:
    """Audit an operator's wallet change; refuses it without a change reason when EDR auditing
    is on (the same rule as every other audited change)."""
    record_change(uow, actor, now, action, "wallet", key, detail)
    return actor_origin(actor)


@dataclass
class LoadedWallet:
    """A wallet locked for this unit of work, with its balances and buckets."""

    wallet: Wallet
    balances: dict[str, WalletBalance]
    buckets: list[Bucket]


def totals(buckets: Iterable[Bucket]) -> dict[str, int]:
    result: dict[str, int] = {}
    for bucket in buckets:
        result[bucket.balance_type] = result.get(bucket.balance_type, 0) + bucket.value
    return result


@dataclass
class Ledger:
    uow: UnitOfWork
    now: datetime
    origin: Origin = SYSTEM_ORIGIN
    written: list[Edr] = field(default_factory=list)

    # -- loading -------------------------------------------------------------------------------

    def load(self, wallet_id: int, expire: bool = True) -> LoadedWallet:
        """Lock the wallet, then remove the value of buckets that have expired (with an EDR)."""
        wallet = self.uow.wallets.get_wallet(wallet_id, for_update=True)
        if wallet is None:
            raise not_found("wallet", wallet_id)
        balances = {b.balance_type: b for b in self.uow.wallets.list_balances(wallet_id)}
        loaded = LoadedWallet(wallet, balances, self.uow.wallets.list_buckets(wallet_id))
        if expire:
            self.expire(loaded)
        return loaded

    def balance_type(self, code: str, field_name: str = "balance_type") -> Record:
        record = self.uow.config.get(ConfigKind.BALANCE_TYPE, code)
        if record is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"{field_name} {code!r} does not exist (balance-types)",
                field_name,
            )
        return record

    def product_type(self, code: str, field_name: str = "product_type") -> Record:
        record = self.uow.config.get(ConfigKind.PRODUCT_TYPE, code)
        if record is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"{field_name} {code!r} does not exist (product-types)",
                field_name,
            )
        return record

    def overrides(self, wallet: Wallet) -> PermissionOverrides:
        return self.uow.wallet_settings.permission_overrides(wallet.product_type)

    def require(self, w: LoadedWallet, action: WalletAction) -> None:
        check_permitted(w.wallet.state, action, self.overrides(w.wallet))

    # -- balances ------------------------------------------------------------------------------

    def ensure_balance(
        self, w: LoadedWallet, balance_type: str, field_name: str = "balance_type"
    ) -> WalletBalance:
        """The wallet's balance of this type, created with default settings on first use: the
        product type's default balance type inherits the wallet's limit type, others are
        PREPAID."""
        existing = w.balances.get(balance_type)
        if existing is not None:
            return existing
        record = self.balance_type(balance_type, field_name)
        check_wallet_currency(w.wallet, record, field_name)
        default = self.product_type(w.wallet.product_type).get("default_balance_type")
        balance = WalletBalance(w.wallet.id, balance_type, LimitType.PREPAID, None, None)
        if default == balance_type:
            balance = replace(
                balance,
                limit_type=w.wallet.limit_type,
                minimum_credit=w.wallet.minimum_credit,
            )
        self.uow.wallets.insert_balance(balance)
        w.balances[balance_type] = balance
        return balance

    def credit_changes(
        self,
        w: LoadedWallet,
        balance_type: str,
        amount: int,
        start_at: datetime | None = None,
        expires_at: datetime | None = None,
        field_name: str = "amount",
    ) -> tuple[list[BucketChange], CreditDecision]:
        """The bucket changes for a credit under the balance type's maximum-balance policy;
        REJECT refuses the whole credit with an error."""
        decision = self.decide(w, balance_type, amount, start_at, field_name)
        if decision.accepted == 0:
            return [], decision
        plan = plan_credit(
            w.buckets, balance_type, decision.accepted, self.now, start_at, expires_at
        )
        return plan, decision

    def decide(
        self,
        w: LoadedWallet,
        balance_type: str,
        amount: int,
        start_at: datetime | None,
        field_name: str = "amount",
    ) -> CreditDecision:
        record = self.balance_type(balance_type)
        maximum = record.get("maximum_balance")
        policy_text = record.get("maximum_balance_policy")
        policy = None if policy_text is None else MaximumBalancePolicy(str(policy_text))
        available = available_value(of_type(w.buckets, balance_type), self.now)
        starts_later = start_at is not None and start_at > self.now
        decision = decide_credit(
            available,
            amount,
            None if maximum is None else int(str(maximum)),
            policy,
            starts_later,
        )
        if decision.outcome is CreditOutcome.REJECTED:
            assert maximum is not None
            error = maximum_exceeded(balance_type, amount, available, int(str(maximum)))
            raise DomainError(error.kind, error.detail, field_name)
        return decision

    # -- writing -------------------------------------------------------------------------------

    def apply(
        self, w: LoadedWallet, changes: Iterable[BucketChange], drop_empty: bool = False
    ) -> list[int]:
        """Store bucket changes; returns each change's bucket id. With drop_empty, buckets that
        reach zero are deleted (consumed or expired value leaves no empty rows behind)."""
        ids = []
        for c in changes:
            if c.bucket.id == 0:
                stored = replace(c.bucket, value=c.new_value, expires_at=c.expires_at)
                stored = replace(stored, id=self.uow.wallets.insert_bucket(w.wallet.id, stored))
                w.buckets.append(stored)
                ids.append(stored.id)
                continue
            if drop_empty and c.new_value == 0:
                self.uow.wallets.delete_bucket(c.bucket.id)
                w.buckets = [b for b in w.buckets if b.id != c.bucket.id]
            else:
                current = next(b for b in w.buckets if b.id == c.bucket.id)
                updated = copy_with(current, value=current.value + c.delta, expires_at=c.expires_at)
                if updated.expires_at == current.expires_at:
                    self.uow.wallets.set_bucket_value(updated.id, updated.value)
                else:
                    self.uow.wallets.update_bucket(updated)
                w.buckets = [updated if b.id == c.bucket.id else b for b in w.buckets]
            ids.append(c.bucket.id)
        return ids

    def replace_bucket(self, w: LoadedWallet, updated: Bucket) -> None:
        self.uow.wallets.update_bucket(updated)
        w.buckets = [updated if b.id == updated.id else b for b in w.buckets]

    def edr(
        self,
        w: LoadedWallet,
        edr_type: EdrType,
        before: Mapping[str, int],
        touched: Iterable[str] = (),
        detail: Mapping[str, object] | None = None,
        **fields: object,
    ) -> Edr:
        """Write the EDR for a change already applied to w: one line per touched balance type
        with its old, delta and new value of everything held."""
        after = totals(w.buckets)
        lines = []
        for code in sorted(set(touched)):
            record = self.balance_type(code)
            old, new = before.get(code, 0), after.get(code, 0)
            lines.append(
                BalanceLine(
                    balance_type=code,
                    unit_class=unit_class(UnitOfMeasure(str(record["unit"]))),
                    currency=None if record["currency"] is None else str(record["currency"]),
                    old_value=old,
                    delta_value=new - old,
                    new_value=new,
                )
            )
        subscriber_id, wallet_type = self.attribution(w.wallet.id, fields.pop("subscriber", None))
        edr = Edr(
            id=0,
            type=edr_type,
            at=self.now,
            wallet_id=w.wallet.id,
            subscriber_id=subscriber_id,
            wallet_type=wallet_type,
            operator=self.origin.operator,
            change_reason=self.origin.change_reason,
            balances=tuple(lines),
            detail=dict(detail or {}),
            **fields,  # type: ignore[arg-type]
        )
        edr = copy_with(edr, id=self.uow.edrs.insert(edr))
        self.written.append(edr)
        return edr

    def attribution(
        self, wallet_id: int, subscriber: object = None
    ) -> tuple[int | None, WalletType | None]:
        """The subscriber an EDR names, and the wallet's type for that subscriber: the one the
        change came from, else the wallet's first primary holder."""
        links = self.uow.wallets.links_of_wallet(wallet_id)
        wanted = subscriber if isinstance(subscriber, int) else self.origin.subscriber_id
        if wanted is not None:
            for link in links:
                if link.subscriber_id == wanted:
                    return link.subscriber_id, link.wallet_type
            return wanted, None
        ordered = sorted(links, key=lambda link: link.wallet_type is not WalletType.PRIMARY)
        if not ordered:
            return None, None
        return ordered[0].subscriber_id, ordered[0].wallet_type

    def history(
        self,
        w: LoadedWallet,
        event: HistoryEvent,
        state_from: WalletState | None = None,
        state_to: WalletState | None = None,
        detail: str | None = None,
    ) -> None:
        self.uow.wallets.append_history(
            WalletHistoryEntry(
                w.wallet.id, self.now, event, self.origin.operator, state_from, state_to, detail
            )
        )

    def save_wallet(self, w: LoadedWallet, wallet: Wallet) -> None:
        self.uow.wallets.update_wallet(wallet)
        w.wallet = wallet

    # -- expiry, states, activation --------------------------------------------------------

    def expire(self, w: LoadedWallet) -> Edr | None:
        """Remove expired buckets; their value leaves the balance with an EXPIRY EDR."""
        expired = [b for b in w.buckets if b.is_expired(self.now)]
        if not expired:
            return None
        before = totals(w.buckets)
        self.apply(w, [change(b, -b.value) for b in expired], drop_empty=True)
        if all(b.value == 0 for b in expired):
            return None
        detail = {"buckets": [b.id for b in expired]}
        saved, self.origin = self.origin, replace(SYSTEM_ORIGIN, subscriber_id=None)
        try:
            return self.edr(w, EdrType.EXPIRY, before, {b.balance_type for b in expired}, detail)
        finally:
            self.origin = saved

    def set_state(self, w: LoadedWallet, target: WalletState) -> Edr:
        current = w.wallet.state
        self.save_wallet(w, replace(w.wallet, state=target, state_changed_at=self.now))
        self.history(w, HistoryEvent.STATE_CHANGED, current, target)
        detail = {"state": {"from": current.value, "to": target.value}}
        return self.edr(w, EdrType.STATE_CHANGE, {}, (), detail)

    def wake(self, w: LoadedWallet) -> None:
        """Use of a DORMANT wallet makes it ACTIVE again."""
        if w.wallet.state is WalletState.DORMANT:
            self.set_state(w, WalletState.ACTIVE)

    def activate(self, w: LoadedWallet) -> Edr:
        """PRE_USE -> ACTIVE, crediting the product type's activation promotion under each
        balance type's maximum policy: LIMIT caps it, REJECT refuses the whole activation."""
        before = totals(w.buckets)
        dropped: dict[str, int] = {}
        touched = []
        for credit in self.uow.wallet_settings.activation_credits(w.wallet.product_type):
            self.ensure_balance(w, credit.balance_type)
            expires_at = None
            if credit.validity_s is not None:
                expires_at = self.now + timedelta(seconds=credit.validity_s)
            changes, decision = self.credit_changes(
                w, credit.balance_type, credit.amount, None, expires_at, "activation_credits"
            )
            self.apply(w, changes)
            touched.append(credit.balance_type)
            if decision.dropped:
                dropped[credit.balance_type] = decision.dropped
        activated = replace(
            w.wallet, state=WalletState.ACTIVE, activated_at=self.now, state_changed_at=self.now
        )
        self.save_wallet(w, activated)
        self.history(w, HistoryEvent.ACTIVATED, WalletState.PRE_USE, WalletState.ACTIVE)
        detail = {"state": {"from": "PRE_USE", "to": "ACTIVE"}, "dropped": dropped}
        return self.edr(w, EdrType.ACTIVATION, before, touched, detail)

    def delete(self, w: LoadedWallet) -> Edr:
        """Delete a wallet; what it still held leaves with a WALLET_DELETED EDR."""
        before = totals(w.buckets)
        held = [b for b in w.buckets if b.value != 0]
        self.apply(w, [change(b, -b.value) for b in held], drop_empty=True)
        edr = self.edr(w, EdrType.WALLET_DELETED, before, {b.balance_type for b in held})
        self.uow.wallets.delete_wallet(w.wallet.id)
        return edr


def check_wallet_currency(wallet: Wallet, balance_type: Record, field_name: str) -> None:
    """Money balances hold the wallet's currency."""
    currency = balance_type.get("currency")
    if balance_type["unit"] == UnitOfMeasure.MONEY.value and currency != wallet.currency:
        raise invalid(
            field_name,
            f"balance type {balance_type['code']!r} holds {currency}, "
            f"but the wallet holds {wallet.currency}",
        )


# -- creating and releasing wallets (also used by subscriber creation and deletion) ------------


@dataclass(frozen=True)
class WalletInput:
    """The New Wallet fields; blank ones default from the product type and the subscriber."""

    product_type: str
    currency: str | None = None
    display_currency: str | None = None
    customer_id: int | None = None
    limit_type: str = LimitType.PREPAID.value
    minimum_credit: int | None = None
    max_concurrent_accesses: int | None = None
    reference: str | None = None


def create_wallet(
    ledger: Ledger,
    subscriber: Subscriber,
    wallet_type: WalletType,
    inp: WalletInput,
    prefix: str = "",
) -> LoadedWallet:
    """A new PRE_USE wallet linked to the subscriber, with its default balance."""
    uow, now = ledger.uow, ledger.now

    def name(field_name: str) -> str:
        return f"{prefix}{field_name}"

    product = ledger.product_type(inp.product_type, name("product_type"))
    if product["service_provider"] != subscriber.service_provider:
        raise invalid(
            name("product_type"),
            f"product type {inp.product_type!r} belongs to another service provider",
        )
    taken = {link.wallet_type for link in uow.wallets.links_of_subscriber(subscriber.id)}
    if wallet_type in taken:
        raise DomainError(
            ProblemKind.DUPLICATE,
            f"subscriber {subscriber.id} already has a {wallet_type.value} wallet",
            name("wallet_type"),
        )
    currency = inp.currency or _text(product.get("currency"))
    if currency is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            "currency is required (the product type has none)",
            name("currency"),
        )
    _currency(uow, currency, name("currency"))
    display_currency = inp.display_currency or currency
    _currency(uow, display_currency, name("display_currency"))
    limit_type = parse_enum(LimitType, inp.limit_type, name("limit_type"))
    try:
        minimum_credit = check_minimum_credit(limit_type, inp.minimum_credit)
        reference = None if not inp.reference else check_reference(inp.reference)
        accesses = inp.max_concurrent_accesses
        if accesses is None:
            default = product.get("max_concurrent_accesses") or DEFAULT_MAX_CONCURRENT_ACCESSES
            accesses = int(str(default))
        accesses = check_max_concurrent_accesses(accesses)
    except DomainError as error:
        raise DomainError(error.kind, error.detail, name(error.field or "")) from None
    if reference is not None and uow.wallets.wallet_by_reference(reference) is not None:
        raise DomainError(
            ProblemKind.DUPLICATE,
            f"wallet reference {reference!r} already exists",
            name("reference"),
        )
    wallet = Wallet(
        id=0,
        reference=reference or "",
        service_provider=subscriber.service_provider,
        product_type=inp.product_type,
        currency=currency,
        display_currency=display_currency,
        customer_id=_customer_id(uow, subscriber, inp.customer_id, name("customer_id")),
        limit_type=limit_type,
        minimum_credit=minimum_credit,
        max_concurrent_accesses=accesses,
        state=WalletState.PRE_USE,
        expires_at=None,
        created_at=now,
        activated_at=None,
        last_used_at=None,
        state_changed_at=now,
    )
    wallet = replace(wallet, id=uow.wallets.insert_wallet(wallet))
    if reference is None:
        wallet = replace(wallet, reference=generated_reference(wallet.id))
        uow.wallets.set_reference(wallet.id, wallet.reference)
    uow.wallets.insert_link(WalletLink(subscriber.id, wallet_type, wallet.id), now)
    w = LoadedWallet(wallet, {}, [])
    default_balance = _text(product.get("default_balance_type"))
    if default_balance is not None:
        ledger.ensure_balance(w, default_balance, name("currency"))
    ledger.history(w, HistoryEvent.CREATED, None, WalletState.PRE_USE, wallet.reference)
    detail = {"reference": wallet.reference, "state": WalletState.PRE_USE.value}
    ledger.edr(w, EdrType.WALLET_CREATED, {}, (), detail, subscriber=subscriber.id)
    return w


def release_subscriber_wallets(ledger: Ledger, subscriber_id: int) -> None:
    """A deleted subscriber's wallets go too, except a shared wallet another subscriber still
    links to: that one only loses this subscriber's link."""
    uow = ledger.uow
    for link in uow.wallets.links_of_subscriber(subscriber_id):
        others = [
            other
            for other in uow.wallets.links_of_wallet(link.wallet_id)
            if other.subscriber_id != subscriber_id
        ]
        if others:
            w = ledger.load(link.wallet_id, expire=False)
            uow.wallets.delete_link(subscriber_id, link.wallet_type)
            ledger.history(w, HistoryEvent.UNLINKED, detail=f"subscriber {subscriber_id}")
            continue
        ledger.delete(ledger.load(link.wallet_id))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _currency(uow: UnitOfWork, code: str, field_name: str) -> None:
    if uow.config.get(ConfigKind.CURRENCY, code) is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"{field_name} {code!r} does not exist", field_name
        )


def _customer_id(
    uow: UnitOfWork, subscriber: Subscriber, customer_id: int | None, field_name: str
) -> int:
    if customer_id is None:
        account = uow.casm.get_account(subscriber.account_id)
        assert account is not None
        return account.customer_id
    customer = uow.casm.get_customer(customer_id)
    if customer is None or customer.service_provider != subscriber.service_provider:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"customer {customer_id} does not exist", field_name
        )
    return customer_id
