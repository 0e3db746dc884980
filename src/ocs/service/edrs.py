"""Use cases for EDRs: search ("View EDRs for Subscriber"), display currency, masking, charge
reversal, and reconciling a wallet's balances with its EDRs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ocs.core.configuration import ConfigKind
from ocs.core.edr import (
    BalanceLine,
    Edr,
    EdrHit,
    EdrPage,
    EdrQuery,
    EdrType,
    MaskingRule,
    UnitClass,
    check_query,
    check_reversible,
    cost,
    decode_movements,
    encode_movements,
    line_in_currency,
    mask_edr,
)
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege
from ocs.core.wallets import Bucket, BucketChange, WalletAction, change, new_bucket
from ocs.service.actor import Actor
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallet_ledger import Ledger, operator_origin, totals


@dataclass(frozen=True)
class BalanceCheck:
    """A balance as held in buckets against the sum of the deltas its EDRs record."""

    balance_type: str
    held_value: int
    edr_value: int

    @property
    def consistent(self) -> bool:
        return self.held_value == self.edr_value


class EdrService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def search(self, actor: Actor, query: EdrQuery, display_currency: str | None = None) -> EdrPage:
        """EDRs of a subscriber's wallets (of the chosen wallet types) or of one wallet, with
        every filter, sort order and page of the EDR viewer."""
        actor.require(Privilege.READ)
        query = check_query(query)
        with self.store.transaction() as uow:
            if query.subscriber_id is not None:
                _visible_subscriber(uow, actor, query.subscriber_id)
                wallet_ids = [
                    link.wallet_id
                    for link in uow.wallets.links_of_subscriber(query.subscriber_id)
                    if link.wallet_type in query.wallet_types
                ]
            else:
                assert query.wallet_id is not None
                wallet = uow.wallets.get_wallet(query.wallet_id)
                if wallet is None or not actor.may_use_provider(wallet.service_provider):
                    raise not_found("wallet", query.wallet_id)
                wallet_ids = [query.wallet_id]
            edrs, total = uow.edrs.search(query, wallet_ids)
            view = _Presenter(uow, actor, display_currency)
            items = [view.hit(edr, query.unit_class) for edr in edrs]
        next_offset = query.offset + len(items)
        return EdrPage(
            items=items,
            total=total,
            offset=query.offset,
            next_offset=next_offset if items and next_offset < total else None,
            display_currency=display_currency,
        )

    def get(self, actor: Actor, edr_id: int, display_currency: str | None = None) -> Edr:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            edr = _visible_edr(uow, actor, edr_id)
            return _Presenter(uow, actor, display_currency).edr(edr)

    def reverse_charge(self, actor: Actor, edr_id: int) -> Edr:
        """Write one REVERSAL EDR that gives back everything a CHARGE EDR took, to the same
        buckets (or buckets with the same dates when those are gone). A charge reverses once."""
        actor.require(Privilege.EXECUTE)
        with self.store.transaction() as uow:
            edr = _visible_edr(uow, actor, edr_id)
            check_reversible(edr, uow.edrs.reversal_of(edr_id))
            if uow.wallets.get_wallet(edr.wallet_id) is None:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"wallet {edr.wallet_id} of EDR {edr_id} no longer exists (merged or deleted)",
                    "edr_id",
                )
            now = self.clock.now()
            detail = {"edr": edr_id}
            origin = operator_origin(uow, actor, now, "reverse", edr.wallet_id, detail)
            ledger = Ledger(uow, now, replace(origin, subscriber_id=edr.subscriber_id))
            w = ledger.load(edr.wallet_id)
            ledger.require(w, WalletAction.ADJUST)
            movements = decode_movements(edr)
            before = totals(w.buckets)
            restore = [_restore(w.buckets, bucket, -delta) for bucket, delta in movements]
            ids = ledger.apply(w, restore)
            reversal = ledger.edr(
                w,
                EdrType.REVERSAL,
                before,
                {bucket.balance_type for bucket, _ in movements},
                {"buckets": encode_movements(restore, ids)},
                reverses_edr_id=edr.id,
                called_number=edr.called_number,
                session_id=edr.session_id,
            )
            # Restored value whose bucket has expired meanwhile leaves again, as it would have.
            ledger.expire(w)
            return reversal

    def reconcile(self, actor: Actor, wallet_id: int) -> list[BalanceCheck]:
        """Each balance held against the sum of its EDR deltas (they must be equal)."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            wallet = uow.wallets.get_wallet(wallet_id)
            if wallet is None or not actor.may_use_provider(wallet.service_provider):
                raise not_found("wallet", wallet_id)
            held = totals(uow.wallets.list_buckets(wallet_id))
            recorded = uow.edrs.delta_sums(wallet_id)
            return [
                BalanceCheck(code, held.get(code, 0), recorded.get(code, 0))
                for code in sorted(held.keys() | recorded.keys())
            ]


def _restore(buckets: list[Bucket], bucket: Bucket, value: int) -> BucketChange:
    current = next((b for b in buckets if b.id == bucket.id), None)
    if current is not None:
        return change(current, value)
    return new_bucket(bucket.balance_type, value, bucket.start_at, bucket.expires_at)


def _visible_subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> None:
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
        raise DomainError(
            ProblemKind.NOT_FOUND, f"subscriber {subscriber_id} does not exist", "subscriber_id"
        )


def _visible_edr(uow: UnitOfWork, actor: Actor, edr_id: int) -> Edr:
    """The EDR when the operator may see its wallet's (or, once gone, its subscriber's)
    service provider; operators of every provider see all."""
    edr = uow.edrs.get(edr_id)
    if edr is None:
        raise not_found("EDR", edr_id)
    if actor.service_providers is None:
        return edr
    wallet = uow.wallets.get_wallet(edr.wallet_id)
    provider = None if wallet is None else wallet.service_provider
    if provider is None and edr.subscriber_id is not None:
        subscriber = uow.casm.get_subscriber(edr.subscriber_id)
        provider = None if subscriber is None else subscriber.service_provider
    if provider is None or not actor.may_use_provider(provider):
        raise not_found("EDR", edr_id)
    return edr


class _Presenter:
    """Masks EDRs for operators without NO MASKING and shows cash in a display currency."""

    def __init__(self, uow: UnitOfWork, actor: Actor, display_currency: str | None) -> None:
        self.uow = uow
        self.display_currency = display_currency
        unmasked = {Privilege.NO_MASKING, Privilege.ADMIN} & actor.privileges
        self.rules: dict[str, MaskingRule] = {} if unmasked else uow.wallet_settings.masking_rules()
        if display_currency is not None:
            self.to_scale = self._scale(display_currency)

    def hit(self, edr: Edr, unit: UnitClass) -> EdrHit:
        shown = self.edr(edr)
        return EdrHit(shown, cost(shown, unit))

    def edr(self, edr: Edr) -> Edr:
        if self.rules:
            edr = mask_edr(edr, self.rules)
        if self.display_currency is None:
            return edr
        return replace(edr, balances=tuple(self._line(line) for line in edr.balances))

    def _line(self, line: BalanceLine) -> BalanceLine:
        target = self.display_currency
        assert target is not None
        if line.currency is None or line.currency == target:
            return line
        rate = self.uow.wallet_settings.exchange_rate(line.currency, target)
        if rate is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"no exchange rate from {line.currency} to {target} is configured",
                "display_currency",
            )
        return line_in_currency(
            line, target, self._scale(line.currency), self.to_scale, rate.rate_nano
        )

    def _scale(self, currency: str) -> int:
        record = self.uow.config.get(ConfigKind.CURRENCY, currency)
        if record is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"display_currency {currency!r} does not exist",
                "display_currency",
            )
        return int(str(record["scale"]))
