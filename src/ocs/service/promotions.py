"""The subscriber promotions view (seed 002 "View Subscriber Promotions"), read only.

Our promotions today are the product types' activation promotions (service/wallet_settings.py,
credited by Ledger.activate). Per wallet of a subscriber the view lists the promotion the
wallet is eligible for, whether it was applied (from the wallet's ACTIVATION EDR), its tracker
(what it credited, until when, and what is left of it when the buckets let us trace that) and
the manual's limited-liability fields, which have no source in our model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ocs.core.edr import Edr, EdrQuery, EdrType
from ocs.core.errors import not_found
from ocs.core.security import Privilege
from ocs.core.wallets import ActivationCredit, Bucket, Wallet, WalletState, WalletType
from ocs.service.actor import Actor
from ocs.service.ports import Clock, Store, UnitOfWork

ACTIVATION_PROMOTION = "ACTIVATION"


class PromotionStatus(StrEnum):
    # The wallet is PRE_USE: the promotion is credited when it is activated.
    PENDING = "PENDING"
    # Credited at activation (applied_at).
    APPLIED = "APPLIED"
    # The wallet left PRE_USE without an activation (frozen or terminated first).
    NOT_APPLIED = "NOT_APPLIED"


class LiabilityStatus(StrEnum):
    """The manual's global limited liability status, plus the value we show for it."""

    UNSET = "UNSET"
    ELIGIBLE = "ELIGIBLE"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NOT_APPLICABLE = "NOT_APPLICABLE"


LIABILITY_FIELDS = (
    "individual_balance",
    "individual_expires_at",
    "individual_maximum",
    "global_status",
    "global_status_expires_at",
)


@dataclass(frozen=True)
class LimitedLiability:
    """The limited-liability fields of the promotion panel and info field. Our model has no
    limit balance type and no global liability counter per promotion, so none has a source:
    they are shown as not applicable, and `not_applicable` names them."""

    individual_balance: int | None = None
    individual_expires_at: datetime | None = None
    individual_maximum: int | None = None
    global_status: LiabilityStatus = LiabilityStatus.NOT_APPLICABLE
    global_status_expires_at: datetime | None = None
    not_applicable: tuple[str, ...] = LIABILITY_FIELDS


@dataclass(frozen=True)
class PromotionTracker:
    """One balance type the promotion credits: the tracker balance of the manual."""

    balance_type: str
    # What the product type configures now (None: no longer configured, but it was applied).
    configured_amount: int | None
    validity_s: int | None
    # What the activation credited after the maximum-balance policy, and what it dropped.
    credited: int | None
    dropped: int | None
    # The first (only) expiry of the credited value; None: does not expire (or not applied).
    expires_at: datetime | None
    # What is left of the credited value; None when it cannot be told apart from other value.
    remaining: int | None
    traceable: bool


@dataclass(frozen=True)
class PromotionView:
    name: str
    kind: str
    status: PromotionStatus
    applied_at: datetime | None
    edr_id: int | None
    trackers: list[PromotionTracker]
    limited_liability: LimitedLiability = field(default_factory=LimitedLiability)


@dataclass(frozen=True)
class WalletPromotions:
    wallet_id: int
    wallet_reference: str
    wallet_type: WalletType
    wallet_state: WalletState
    product_type: str
    promotions: list[PromotionView]


@dataclass(frozen=True)
class SubscriberPromotions:
    subscriber_id: int
    wallets: list[WalletPromotions]


class PromotionService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def subscriber_promotions(self, actor: Actor, subscriber_id: int) -> SubscriberPromotions:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = uow.casm.get_subscriber(subscriber_id)
            if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
                raise not_found("subscriber", subscriber_id)
            now = self.clock.now()
            wallets = []
            for link in sorted(
                uow.wallets.links_of_subscriber(subscriber_id), key=lambda x: x.wallet_type
            ):
                wallet = uow.wallets.get_wallet(link.wallet_id)
                assert wallet is not None
                wallets.append(
                    WalletPromotions(
                        wallet.id,
                        wallet.reference,
                        link.wallet_type,
                        wallet.state,
                        wallet.product_type,
                        _activation_promotions(uow, wallet, now),
                    )
                )
            return SubscriberPromotions(subscriber_id, wallets)


def _activation_promotions(uow: UnitOfWork, wallet: Wallet, now: datetime) -> list[PromotionView]:
    credits = {
        c.balance_type: c for c in uow.wallet_settings.activation_credits(wallet.product_type)
    }
    edr = _activation_edr(uow, wallet.id)
    credited = {} if edr is None else {line.balance_type: line for line in edr.balances}
    if not credits and not credited:
        return []  # the product type has no activation promotion
    if edr is not None:
        status = PromotionStatus.APPLIED
    elif wallet.state is WalletState.PRE_USE:
        status = PromotionStatus.PENDING
    else:
        status = PromotionStatus.NOT_APPLIED
    buckets = uow.wallets.list_buckets(wallet.id)
    raw_dropped = {} if edr is None else edr.detail.get("dropped", {})
    dropped = raw_dropped if isinstance(raw_dropped, dict) else {}
    trackers = []
    for code in sorted(set(credits) | set(credited)):
        credit = credits.get(code)
        line = credited.get(code)
        if edr is None or line is None:
            trackers.append(_unapplied(code, credit))
            continue
        trackers.append(
            _tracker(code, credit, line.delta_value, int(dropped.get(code, 0)), edr, buckets, now)
        )
    name = f"Activation promotion of product type {wallet.product_type}"
    applied_at = None if edr is None else edr.at
    edr_id = None if edr is None else edr.id
    return [PromotionView(name, ACTIVATION_PROMOTION, status, applied_at, edr_id, trackers)]


def _activation_edr(uow: UnitOfWork, wallet_id: int) -> Edr | None:
    query = EdrQuery(wallet_id=wallet_id, types=frozenset({EdrType.ACTIVATION}), page_size=1)
    found, _ = uow.edrs.search(query, [wallet_id])
    return found[0] if found else None


def _unapplied(code: str, credit: ActivationCredit | None) -> PromotionTracker:
    amount = None if credit is None else credit.amount
    validity = None if credit is None else credit.validity_s
    return PromotionTracker(code, amount, validity, None, None, None, None, False)


def _tracker(
    code: str,
    credit: ActivationCredit | None,
    credited: int,
    dropped: int,
    edr: Edr,
    buckets: list[Bucket],
    now: datetime,
) -> PromotionTracker:
    amount = None if credit is None else credit.amount
    validity = None if credit is None else credit.validity_s
    if validity is None:
        # Undated credit joins the wallet's open bucket with all other undated value.
        return PromotionTracker(code, amount, validity, credited, dropped, None, None, False)
    expires_at = edr.at + timedelta(seconds=validity)
    # Dated credit has its own bucket (same balance type and expiry); used-up and expired
    # buckets are removed, so a missing bucket means nothing is left.
    held = sum(
        b.value
        for b in buckets
        if b.balance_type == code and b.expires_at == expires_at and b.start_at is None
    )
    remaining = 0 if expires_at <= now else max(0, min(held, credited))
    return PromotionTracker(code, amount, validity, credited, dropped, expires_at, remaining, True)
