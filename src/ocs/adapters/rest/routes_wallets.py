"""Wallets, balances, buckets, EDRs and wallet settings: our /api/v1 resources plus the
TM Forum TMF654 (Prepay Balance Management) names where they fit."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ocs.core.edr import Edr, EdrPage, EdrQuery, EdrSort, EdrType, MaskingRule, UnitClass
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.money import ExchangeRate, format_rate
from ocs.core.wallets import (
    ActivationCredit,
    AdjustmentLimitRule,
    Bucket,
    ChargeOutcome,
    WalletHistoryEntry,
    WalletType,
    parse_enum,
)
from ocs.service.actor import Actor
from ocs.service.edrs import BalanceCheck, EdrService
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallet_settings import PermissionCell, WalletSettingsService
from ocs.service.wallets import (
    BalanceInput,
    BalanceUpdate,
    BalanceView,
    BucketEdit,
    ChargeRequest,
    ChargeResult,
    CreditResult,
    MergeRequest,
    WalletService,
    WalletUpdate,
    WalletView,
)

from .auth import current_actor

TMF_PREFIX = "/tmf-api/prepayBalanceManagement/v4"

# Direct debits refused for these reasons answer with the matching problem type.
CHARGE_PROBLEMS: dict[ChargeOutcome, ProblemKind] = {
    ChargeOutcome.NOT_ALLOWED_IN_STATE: ProblemKind.NOT_ALLOWED_IN_STATE,
    ChargeOutcome.WALLET_EXPIRED: ProblemKind.WALLET_EXPIRED,
    ChargeOutcome.MAXIMUM_BALANCE_EXCEEDED: ProblemKind.MAXIMUM_BALANCE_EXCEEDED,
    ChargeOutcome.INSUFFICIENT_BALANCE: ProblemKind.INSUFFICIENT_BALANCE,
}


class Body(BaseModel):
    # Lax only so that ISO date-time strings parse; every other field is declared strict.
    model_config = ConfigDict(extra="forbid", strict=False)


class WalletCreate(Body):
    """The New Wallet fields; blank ones default from the product type and subscriber."""

    product_type: StrictStr
    currency: StrictStr | None = Field(None, description="Wallet currency")
    display_currency: StrictStr | None = None
    customer_id: StrictInt | None = Field(None, description="Defaults to the subscriber's")
    limit_type: StrictStr = "PREPAID"
    minimum_credit: StrictInt | None = Field(None, description="LIMITED_POSTPAID only, <= 0")
    max_concurrent_accesses: StrictInt | None = None
    reference: StrictStr | None = Field(None, description="Generated when blank")


class NewWallet(WalletCreate):
    wallet_type: StrictStr = "SECONDARY"


class WalletLinkCreate(Body):
    wallet_type: StrictStr = "SECONDARY"
    reference: StrictStr = Field(description="Reference of the existing wallet to share")


class WalletPatch(Body):
    currency: StrictStr | None = None
    display_currency: StrictStr | None = None
    max_concurrent_accesses: StrictInt | None = None
    expires_at: datetime | None = None
    clear_expiry: StrictBool = False


class StateBody(Body):
    state: StrictStr


class BalanceCreate(Body):
    balance_type: StrictStr
    limit_type: StrictStr | None = None
    minimum_credit: StrictInt | None = None
    display_currency: StrictStr | None = None
    value: StrictInt = 0
    expires_at: datetime | None = None


class BalancePatch(Body):
    limit_type: StrictStr | None = None
    minimum_credit: StrictInt | None = None
    display_currency: StrictStr | None = None


class BucketCreate(Body):
    balance_type: StrictStr
    value: StrictInt
    start_at: datetime | None = Field(None, description="Offset date: available from then")
    expires_at: datetime | None = None


class BucketPatch(Body):
    value: StrictInt | None = None
    start_at: datetime | None = None
    expires_at: datetime | None = None
    clear_start: StrictBool = False
    clear_expiry: StrictBool = False


class TopUp(Body):
    balance_type: StrictStr
    amount: StrictInt = Field(description="Minor units of the balance type's unit")
    expires_at: datetime | None = None
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict)


class Adjustment(Body):
    balance_type: StrictStr
    amount: StrictInt = Field(description="Signed; negative only when the minimum is negative")
    expires_at: datetime | None = None


class Charge(Body):
    subscriber_id: StrictInt
    wallet_type: StrictStr = "PRIMARY"
    amounts: dict[StrictStr, StrictInt] = Field(description="Balance type -> amount to debit")
    called_number: StrictStr | None = None
    duration_s: StrictInt | None = None
    session_id: StrictStr | None = None
    discounts: StrictStr | None = None
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    partial: StrictBool = False


class Merge(Body):
    source_subscriber_id: StrictInt
    target_subscriber_id: StrictInt
    source_wallet_type: StrictStr = "PRIMARY"
    target_wallet_type: StrictStr = "PRIMARY"
    expiry_policy: StrictStr = "BEST"
    bucket_policy: StrictStr = "MERGE"


class LimitsBody(Body):
    minimum: StrictInt
    maximum: StrictInt
    operator: StrictStr | None = Field(None, description="Limits of one operator (these win)")


class ActivationCreditBody(Body):
    amount: StrictInt
    validity_s: StrictInt | None = None


class PermissionBody(Body):
    allowed: StrictBool


class RateBody(Body):
    rate: StrictStr = Field(description="Decimal text, e.g. '1.0853': one major unit's price")


class MaskingBody(Body):
    keep_prefix: StrictInt
    keep_suffix: StrictInt


class RateView(BaseModel):
    from_currency: str
    to_currency: str
    rate: str


def wallet_input(body: WalletCreate) -> WalletInput:
    return WalletInput(**body.model_dump(include=set(WalletCreate.model_fields)))


def _wallets(request: Request) -> WalletService:
    return request.app.state.services.wallets  # type: ignore[no-any-return]


def _edrs(request: Request) -> EdrService:
    return request.app.state.services.edrs  # type: ignore[no-any-return]


def _settings(request: Request) -> WalletSettingsService:
    return request.app.state.services.wallet_settings  # type: ignore[no-any-return]


def _charged(result: ChargeResult) -> ChargeResult:
    problem = CHARGE_PROBLEMS.get(result.outcome)
    if problem is not None:
        raise DomainError(problem, result.detail, "amounts")
    return result


router = APIRouter(tags=["wallets"])


# -- wallets ----------------------------------------------------------------------------------


@router.get("/subscribers/{subscriber_id}/wallets", summary="A subscriber's wallets")
def subscriber_wallets(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[WalletView]:
    return _wallets(request).subscriber_wallets(actor, subscriber_id)


@router.post("/subscribers/{subscriber_id}/wallets", status_code=201, summary="New wallet")
def create_wallet(
    request: Request, subscriber_id: int, body: NewWallet, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).create_wallet(
        actor, subscriber_id, body.wallet_type, wallet_input(body)
    )


@router.post(
    "/subscribers/{subscriber_id}/wallet-links",
    status_code=201,
    summary="Link to an existing (shared) wallet",
)
def link_wallet(
    request: Request,
    subscriber_id: int,
    body: WalletLinkCreate,
    actor: Actor = Depends(current_actor),
) -> WalletView:
    return _wallets(request).link_wallet(actor, subscriber_id, body.wallet_type, body.reference)


@router.get("/wallets", summary="Find a wallet by its reference")
def find_wallet(
    request: Request, reference: str, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).find_wallet(actor, reference)


@router.get("/wallets/{wallet_id}")
def get_wallet(
    request: Request,
    wallet_id: int,
    display_currency: str | None = Query(None, description="Show cash balances in this currency"),
    actor: Actor = Depends(current_actor),
) -> WalletView:
    return _wallets(request).get_wallet(actor, wallet_id, display_currency)


@router.patch("/wallets/{wallet_id}")
def update_wallet(
    request: Request, wallet_id: int, body: WalletPatch, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).update_wallet(actor, wallet_id, WalletUpdate(**body.model_dump()))


@router.post("/wallets/{wallet_id}/state", summary="Change wallet state (ACTIVE activates)")
def change_wallet_state(
    request: Request, wallet_id: int, body: StateBody, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).change_state(actor, wallet_id, body.state)


@router.post("/wallets/{wallet_id}/activate", summary="Activate a PRE_USE wallet")
def activate_wallet(
    request: Request, wallet_id: int, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).activate(actor, wallet_id)


@router.get("/wallets/{wallet_id}/history")
def wallet_history(
    request: Request, wallet_id: int, actor: Actor = Depends(current_actor)
) -> list[WalletHistoryEntry]:
    return _wallets(request).history(actor, wallet_id)


@router.get("/wallets/{wallet_id}/reconciliation", summary="Balances against their EDRs")
def reconcile_wallet(
    request: Request, wallet_id: int, actor: Actor = Depends(current_actor)
) -> list[BalanceCheck]:
    return _edrs(request).reconcile(actor, wallet_id)


@router.post("/wallets/{wallet_id}/balances", status_code=201, summary="Add a balance")
def add_balance(
    request: Request, wallet_id: int, body: BalanceCreate, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).add_balance(actor, wallet_id, BalanceInput(**body.model_dump()))


@router.patch("/wallets/{wallet_id}/balances/{balance_type}")
def update_balance(
    request: Request,
    wallet_id: int,
    balance_type: str,
    body: BalancePatch,
    actor: Actor = Depends(current_actor),
) -> WalletView:
    update = BalanceUpdate(**body.model_dump())
    return _wallets(request).update_balance(actor, wallet_id, balance_type, update)


@router.post("/wallets/{wallet_id}/buckets", status_code=201, summary="Add a bucket")
def add_bucket(
    request: Request, wallet_id: int, body: BucketCreate, actor: Actor = Depends(current_actor)
) -> CreditResult:
    return _wallets(request).add_bucket(
        actor, wallet_id, body.balance_type, body.value, body.start_at, body.expires_at
    )


@router.patch("/wallets/{wallet_id}/buckets/{bucket_id}", summary="Edit a bucket")
def edit_bucket(
    request: Request,
    wallet_id: int,
    bucket_id: int,
    body: BucketPatch,
    actor: Actor = Depends(current_actor),
) -> CreditResult:
    edit = BucketEdit(**body.model_dump())
    return _wallets(request).edit_bucket(actor, wallet_id, bucket_id, edit)


@router.delete("/wallets/{wallet_id}/buckets/{bucket_id}", summary="Delete a bucket")
def delete_bucket(
    request: Request, wallet_id: int, bucket_id: int, actor: Actor = Depends(current_actor)
) -> Edr:
    return _wallets(request).delete_bucket(actor, wallet_id, bucket_id)


@router.post("/wallets/{wallet_id}/top-ups", status_code=201, summary="Recharge a balance")
def top_up(
    request: Request, wallet_id: int, body: TopUp, actor: Actor = Depends(current_actor)
) -> CreditResult:
    return _wallets(request).top_up(
        actor, wallet_id, body.balance_type, body.amount, body.expires_at, body.tags
    )


@router.post("/wallets/{wallet_id}/adjustments", status_code=201, summary="Adjust a balance")
def adjust(
    request: Request, wallet_id: int, body: Adjustment, actor: Actor = Depends(current_actor)
) -> CreditResult:
    return _wallets(request).adjust(
        actor, wallet_id, body.balance_type, body.amount, body.expires_at
    )


@router.post("/charges", status_code=201, summary="Debit a subscriber's wallet for one event")
def charge(request: Request, body: Charge, actor: Actor = Depends(current_actor)) -> ChargeResult:
    charge_request = ChargeRequest(**body.model_dump())
    return _charged(_wallets(request).charge(charge_request, actor))


@router.post("/wallet-merges", summary="Merge a source wallet into a target wallet")
def merge_wallets(
    request: Request, body: Merge, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _wallets(request).merge(actor, MergeRequest(**body.model_dump()))


@router.post("/wallet-expiry-runs", summary="Remove expired buckets now")
def expire_buckets(request: Request, actor: Actor = Depends(current_actor)) -> dict[str, int]:
    return {"expiry_edrs": _wallets(request).expire_buckets(actor)}


# -- EDRs ----------------------------------------------------------------------------------------


@router.get("/edrs", tags=["EDRs"], summary="View EDRs for a subscriber (or one wallet)")
def search_edrs(
    request: Request,
    subscriber_id: int | None = None,
    wallet_id: int | None = None,
    wallet_type: list[str] = Query(["PRIMARY", "SECONDARY"]),
    start: datetime | None = Query(None, description="EDRs at or after"),
    end: datetime | None = Query(None, description="EDRs before"),
    category: list[str] = Query([], description="EDR types; none means all"),
    called_number: str | None = None,
    tag: str | None = None,
    tag_value: str | None = None,
    include_partial: bool = False,
    unit_type: str = Query("CASH", description="CASH, TIME or UNITS: the cost column's unit"),
    sort: str = Query("DATE", description="DATE, BALANCE_TYPE, COST or TYPE"),
    reverse: bool = Query(False, description="Flip the sort direction"),
    max_results: int | None = Query(None, description="Number of EDRs; blank for all"),
    offset: int = 0,
    page_size: int = 50,
    display_currency: str | None = None,
    actor: Actor = Depends(current_actor),
) -> EdrPage:
    query = EdrQuery(
        subscriber_id=subscriber_id,
        wallet_id=wallet_id,
        wallet_types=frozenset(parse_enum(WalletType, w, "wallet_type") for w in wallet_type),
        start=start,
        end=end,
        types=frozenset(parse_enum(EdrType, c, "category") for c in category),
        called_number=called_number,
        tag=tag,
        tag_value=tag_value,
        include_partial=include_partial,
        unit_class=parse_enum(UnitClass, unit_type, "unit_type"),
        sort=parse_enum(EdrSort, sort, "sort"),
        reverse=reverse,
        max_results=max_results,
        offset=offset,
        page_size=page_size,
    )
    return _edrs(request).search(actor, query, display_currency)


@router.get("/edrs/{edr_id}", tags=["EDRs"])
def get_edr(
    request: Request,
    edr_id: int,
    display_currency: str | None = None,
    actor: Actor = Depends(current_actor),
) -> Edr:
    return _edrs(request).get(actor, edr_id, display_currency)


@router.post("/edrs/{edr_id}/reversal", status_code=201, tags=["EDRs"], summary="Reverse a charge")
def reverse_charge(request: Request, edr_id: int, actor: Actor = Depends(current_actor)) -> Edr:
    return _edrs(request).reverse_charge(actor, edr_id)


# -- settings --------------------------------------------------------------------------------

settings_tag = "wallet settings"


@router.get("/product-types/{code}/adjustment-limits", tags=[settings_tag])
def list_adjustment_limits(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[AdjustmentLimitRule]:
    return _settings(request).adjustment_limits(actor, code)


@router.put("/product-types/{code}/adjustment-limits/{balance_type}", tags=[settings_tag])
def set_adjustment_limits(
    request: Request,
    code: str,
    balance_type: str,
    body: LimitsBody,
    actor: Actor = Depends(current_actor),
) -> AdjustmentLimitRule:
    return _settings(request).set_adjustment_limits(
        actor, code, balance_type, body.minimum, body.maximum, body.operator
    )


@router.delete(
    "/product-types/{code}/adjustment-limits/{balance_type}", status_code=204, tags=[settings_tag]
)
def delete_adjustment_limits(
    request: Request,
    code: str,
    balance_type: str,
    operator: str | None = None,
    actor: Actor = Depends(current_actor),
) -> Response:
    _settings(request).delete_adjustment_limits(actor, code, balance_type, operator)
    return Response(status_code=204)


@router.get("/product-types/{code}/activation-credits", tags=[settings_tag])
def list_activation_credits(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[ActivationCredit]:
    return _settings(request).activation_credits(actor, code)


@router.put("/product-types/{code}/activation-credits/{balance_type}", tags=[settings_tag])
def set_activation_credit(
    request: Request,
    code: str,
    balance_type: str,
    body: ActivationCreditBody,
    actor: Actor = Depends(current_actor),
) -> ActivationCredit:
    return _settings(request).set_activation_credit(
        actor, code, balance_type, body.amount, body.validity_s
    )


@router.delete(
    "/product-types/{code}/activation-credits/{balance_type}", status_code=204, tags=[settings_tag]
)
def delete_activation_credit(
    request: Request, code: str, balance_type: str, actor: Actor = Depends(current_actor)
) -> Response:
    _settings(request).delete_activation_credit(actor, code, balance_type)
    return Response(status_code=204)


@router.get("/product-types/{code}/permissions", tags=[settings_tag])
def permissions(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[PermissionCell]:
    return _settings(request).permissions(actor, code)


@router.put("/product-types/{code}/permissions/{state}/{action}", tags=[settings_tag])
def set_permission(
    request: Request,
    code: str,
    state: str,
    action: str,
    body: PermissionBody,
    actor: Actor = Depends(current_actor),
) -> PermissionCell:
    return _settings(request).set_permission(actor, code, state, action, body.allowed)


@router.delete(
    "/product-types/{code}/permissions/{state}/{action}", status_code=204, tags=[settings_tag]
)
def delete_permission(
    request: Request, code: str, state: str, action: str, actor: Actor = Depends(current_actor)
) -> Response:
    _settings(request).delete_permission(actor, code, state, action)
    return Response(status_code=204)


def _rate_view(rate: ExchangeRate) -> RateView:
    return RateView(
        from_currency=rate.from_currency,
        to_currency=rate.to_currency,
        rate=format_rate(rate.rate_nano),
    )


@router.get("/exchange-rates", tags=[settings_tag])
def exchange_rates(request: Request, actor: Actor = Depends(current_actor)) -> list[RateView]:
    return [_rate_view(r) for r in _settings(request).exchange_rates(actor)]


@router.put("/exchange-rates/{from_currency}/{to_currency}", tags=[settings_tag])
def set_exchange_rate(
    request: Request,
    from_currency: str,
    to_currency: str,
    body: RateBody,
    actor: Actor = Depends(current_actor),
) -> RateView:
    rate = _settings(request).set_exchange_rate(actor, from_currency, to_currency, body.rate)
    return _rate_view(rate)


@router.delete(
    "/exchange-rates/{from_currency}/{to_currency}", status_code=204, tags=[settings_tag]
)
def delete_exchange_rate(
    request: Request, from_currency: str, to_currency: str, actor: Actor = Depends(current_actor)
) -> Response:
    _settings(request).delete_exchange_rate(actor, from_currency, to_currency)
    return Response(status_code=204)


@router.get("/edr-masking-rules", tags=[settings_tag])
def masking_rules(request: Request, actor: Actor = Depends(current_actor)) -> list[MaskingRule]:
    return _settings(request).masking_rules(actor)


@router.put("/edr-masking-rules/{field}", tags=[settings_tag])
def set_masking_rule(
    request: Request, field: str, body: MaskingBody, actor: Actor = Depends(current_actor)
) -> MaskingRule:
    return _settings(request).set_masking_rule(actor, field, body.keep_prefix, body.keep_suffix)


@router.delete("/edr-masking-rules/{field}", status_code=204, tags=[settings_tag])
def delete_masking_rule(
    request: Request, field: str, actor: Actor = Depends(current_actor)
) -> Response:
    _settings(request).delete_masking_rule(actor, field)
    return Response(status_code=204)


# -- TMF654 Prepay Balance Management -------------------------------------------------------------

tmf_router = APIRouter(prefix=TMF_PREFIX, tags=["TMF654 prepay balance management"])


class Quantity(Body):
    amount: StrictInt = Field(description="Integer minor units (cents, seconds, octets, ...)")
    units: StrictStr = Field(description="Balance type code")


class PartyAccountRef(Body):
    id: StrictStr = Field(description="Wallet reference")


class BalanceRequest(Body):
    """TopupBalance / AdjustBalance create body (the fields this OCS uses)."""

    amount: Quantity
    partyAccount: PartyAccountRef  # noqa: N815 - TMF654 attribute name
    reason: StrictStr | None = Field(None, description="Change reason (EDR auditing)")


def _tmf_wallet(request: Request, actor: Actor, reference: str) -> int:
    return _wallets(request).find_wallet(actor, reference).wallet.id


def _tmf_bucket(
    view: WalletView, balance: BalanceView, bucket: Bucket, now: datetime
) -> dict[str, object]:
    return {
        "id": str(bucket.id),
        "href": f"{TMF_PREFIX}/bucket/{bucket.id}",
        "name": balance.balance_type,
        "remainedAmount": {"amount": bucket.value, "units": balance.currency or balance.unit},
        "validFor": {"startDateTime": bucket.start_at, "endDateTime": bucket.expires_at},
        "partyAccount": {"id": view.wallet.reference},
        "status": "active" if bucket.is_available(now) else "pending",
        "@type": "Bucket",
    }


def _tmf_buckets(request: Request, view: WalletView) -> list[dict[str, object]]:
    now = request.app.state.services.clock.now()
    return [_tmf_bucket(view, b, bucket, now) for b in view.balances for bucket in b.buckets]


@tmf_router.get("/bucket", summary="List buckets of a wallet (partyAccount.id) or subscriber")
def tmf_list_buckets(
    request: Request,
    party_account: str | None = Query(None, alias="partyAccount.id"),
    subscriber_id: int | None = Query(None, alias="relatedParty.id"),
    actor: Actor = Depends(current_actor),
) -> list[dict[str, object]]:
    if party_account is not None:
        return _tmf_buckets(request, _wallets(request).find_wallet(actor, party_account))
    if subscriber_id is not None:
        views = _wallets(request).subscriber_wallets(actor, subscriber_id)
        return [item for view in views for item in _tmf_buckets(request, view)]
    raise invalid("partyAccount.id", "filter by partyAccount.id or relatedParty.id")


@tmf_router.get("/bucket/{bucket_id}", summary="One bucket")
def tmf_get_bucket(
    request: Request, bucket_id: int, actor: Actor = Depends(current_actor)
) -> dict[str, object]:
    view = _wallets(request).wallet_of_bucket(actor, bucket_id)
    found = [item for item in _tmf_buckets(request, view) if item["id"] == str(bucket_id)]
    return found[0]


def _balance_action(
    request: Request, actor: Actor, body: BalanceRequest, kind: str, signed: bool
) -> dict[str, object]:
    if body.reason is not None:
        actor = actor.with_reason(body.reason)
    wallet_id = _tmf_wallet(request, actor, body.partyAccount.id)
    service = _wallets(request)
    if signed:
        result = service.adjust(actor, wallet_id, body.amount.units, body.amount.amount)
    else:
        result = service.top_up(actor, wallet_id, body.amount.units, body.amount.amount)
    return {
        "id": str(result.edr.id),
        "href": f"{TMF_PREFIX}/{kind[0].lower()}{kind[1:]}/{result.edr.id}",
        "status": "completed",
        "amount": body.amount.model_dump(),
        "partyAccount": body.partyAccount.model_dump(),
        "confirmationDate": result.edr.at,
        "reason": result.edr.change_reason,
        "droppedAmount": {"amount": result.dropped, "units": body.amount.units},
        "@type": kind,
    }


@tmf_router.post("/topupBalance", status_code=201, summary="Recharge a balance")
def tmf_topup_balance(
    request: Request, body: BalanceRequest, actor: Actor = Depends(current_actor)
) -> dict[str, object]:
    return _balance_action(request, actor, body, "TopupBalance", signed=False)


@tmf_router.post("/adjustBalance", status_code=201, summary="Adjust a balance (signed amount)")
def tmf_adjust_balance(
    request: Request, body: BalanceRequest, actor: Actor = Depends(current_actor)
) -> dict[str, object]:
    return _balance_action(request, actor, body, "AdjustBalance", signed=True)


@tmf_router.get("/balanceActionHistory", summary="Balance actions (EDRs) of a wallet")
def tmf_balance_action_history(
    request: Request,
    party_account: str = Query(alias="partyAccount.id"),
    offset: int = 0,
    limit: int = 50,
    actor: Actor = Depends(current_actor),
) -> list[dict[str, object]]:
    wallet_id = _tmf_wallet(request, actor, party_account)
    query = EdrQuery(wallet_id=wallet_id, offset=offset, page_size=limit)
    page = _edrs(request).search(actor, query)
    return [
        {
            "id": str(hit.edr.id),
            "actionType": hit.edr.type.value,
            "actionDate": hit.edr.at,
            "partyAccount": {"id": party_account},
            "amount": [
                {"amount": line.delta_value, "units": line.balance_type}
                for line in hit.edr.balances
            ],
            "reason": hit.edr.change_reason,
            "@type": "BalanceActionHistory",
        }
        for hit in page.items
    ]
