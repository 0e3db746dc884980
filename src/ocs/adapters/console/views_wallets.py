"""The subscriber's Wallets option: primary / secondary tabs, balances with their buckets,
bucket editing, top-up and adjustment, and a balance history chart per balance type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EDR_PAGE_ROWS_MAX, EdrQuery
from ocs.core.errors import DomainError, invalid, not_found
from ocs.core.wallets import Bucket, WalletType
from ocs.service.reservations import ReservedBalance
from ocs.service.wallets import BucketEdit, WalletView

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_customers import config_options

router = APIRouter()

BUCKET_FIELDS = ("balance_type", "value", "start_at", "expires_at")
EDIT_FIELDS = ("value", "start_at", "expires_at")
CREDIT_FIELDS = ("balance_type", "amount", "expires_at")
WALLET_TABS = (WalletType.PRIMARY, WalletType.SECONDARY)


@dataclass(frozen=True)
class BalanceRow:
    """A balance as the wallet shows it, with what open reservations hold of it."""

    balance_type: str
    unit: str
    currency: str | None
    limit_type: str
    total: int
    available: int
    reserved: int
    buckets: list[Bucket]


def visible_subscriber(page: Page, subscriber_id: int) -> Subscriber:
    """The subscriber when it belongs to the service provider the operator works in."""
    subscriber = page.services.casm.get_subscriber(page.operator, subscriber_id).subscriber
    if subscriber.service_provider != page.provider:
        raise not_found("subscriber", subscriber_id)
    return subscriber


def wallet_of(page: Page, subscriber_id: int, wallet_type: WalletType) -> WalletView | None:
    """The subscriber's wallet of one type (primary or secondary), if it has one."""
    for view in page.services.wallets.subscriber_wallets(page.operator, subscriber_id):
        if any(
            link.subscriber_id == subscriber_id and link.wallet_type is wallet_type
            for link in view.links
        ):
            return view
    return None


def tab_type(value: str) -> WalletType:
    try:
        return WalletType(value.upper())
    except ValueError:
        raise invalid("type", "the wallet tab must be PRIMARY or SECONDARY") from None


def _rows(page: Page, view: WalletView) -> list[BalanceRow]:
    reserved: Mapping[str, ReservedBalance] = {
        b.balance_type: b
        for b in page.services.reservations.balances(page.operator, view.wallet.id)
    }
    rows = []
    for balance in view.balances:
        held = reserved.get(balance.balance_type)
        rows.append(
            BalanceRow(
                balance_type=balance.balance_type,
                unit=balance.unit,
                currency=balance.currency,
                limit_type=balance.limit_type.value,
                total=balance.total_value,
                available=balance.available_value if held is None else held.available,
                reserved=0 if held is None else held.reserved,
                buckets=balance.buckets,
            )
        )
    return rows


def balance_history(page: Page, view: WalletView) -> dict[str, list[list[int]]]:
    """Per balance type, [[unix seconds...], [new value...]] from the wallet's latest EDRs,
    oldest first and ending with the balance now: the series of the balance history chart."""
    query = EdrQuery(wallet_id=view.wallet.id, page_size=EDR_PAGE_ROWS_MAX)
    hits = page.services.edrs.search(page.operator, query).items
    series: dict[str, list[list[int]]] = {}
    for hit in reversed(hits):
        for line in hit.edr.balances:
            times, values = series.setdefault(line.balance_type, [[], []])
            times.append(int(hit.edr.at.timestamp()))
            values.append(line.new_value)
    now = int(page.services.clock.now().timestamp())
    for balance in view.balances:
        if balance.balance_type in series:
            times, values = series[balance.balance_type]
            times.append(max(now, times[-1]))
            values.append(balance.total_value)
    return series


def render_wallets(
    page: Page,
    subscriber_id: int,
    wallet_type: WalletType,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    forms = forms or {}
    subscriber = visible_subscriber(page, subscriber_id)
    view = wallet_of(page, subscriber_id, wallet_type)
    return page.render(
        "subscribers/wallets.html",
        status_code=status_code,
        title=f"Subscriber {subscriber.subscriber_id} · wallets",
        section="subscribers",
        option="wallets",
        subscriber=subscriber,
        tabs=WALLET_TABS,
        wallet_type=wallet_type,
        view=view,
        rows=[] if view is None else _rows(page, view),
        charging_domain=None if view is None else page.services.domains.domain_of(view.wallet.id),
        history=None if view is None else balance_history(page, view),
        balance_types=config_options(page, ConfigKind.BALANCE_TYPE),
        forms=forms,
        empty_form=FormState(),
        general=forms.get("page", FormState()).general,
    )


@router.get("/subscribers/{subscriber_id}/wallets")
def wallets(
    subscriber_id: int, type: str = "PRIMARY", page: Page = Depends(operator_page)
) -> Response:
    return render_wallets(page, subscriber_id, tab_type(type))


def _wallet_id(page: Page, subscriber_id: int, wallet_type: WalletType) -> int:
    visible_subscriber(page, subscriber_id)
    view = wallet_of(page, subscriber_id, wallet_type)
    if view is None:
        raise not_found(f"{wallet_type.value.lower()} wallet of subscriber", subscriber_id)
    return view.wallet.id


def _back(page: Page, subscriber_id: int, wallet_type: WalletType, notice: str) -> Response:
    path = f"/subscribers/{subscriber_id}/wallets"
    return page.redirect(path, notice=notice, type=wallet_type.value)


@router.post("/subscribers/{subscriber_id}/wallets/{tab}/buckets")
def bucket_add(
    subscriber_id: int,
    tab: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    wallet_type = tab_type(tab)
    wallet_id = _wallet_id(page, subscriber_id, wallet_type)
    try:
        value = f.integer(form, "value")
        if value is None:
            raise invalid("value", "enter the value of the bucket")
        page.services.wallets.add_bucket(
            page.acting(form),
            wallet_id,
            form.get("balance_type", ""),
            value,
            f.utc_datetime(form, "start_at"),
            f.utc_datetime(form, "expires_at"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, BUCKET_FIELDS)
        return render_wallets(page, subscriber_id, wallet_type, {"bucket": state}, state.status)
    return _back(page, subscriber_id, wallet_type, "created")


@router.post("/subscribers/{subscriber_id}/wallets/{tab}/buckets/{bucket_id}")
def bucket_edit(
    subscriber_id: int,
    tab: str,
    bucket_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    wallet_type = tab_type(tab)
    wallet_id = _wallet_id(page, subscriber_id, wallet_type)
    try:
        edit = BucketEdit(
            value=f.integer(form, "value"),
            start_at=f.utc_datetime(form, "start_at"),
            expires_at=f.utc_datetime(form, "expires_at"),
            clear_start=f.text(form, "start_at") is None,
            clear_expiry=f.text(form, "expires_at") is None,
        )
        page.services.wallets.edit_bucket(page.acting(form), wallet_id, bucket_id, edit)
    except DomainError as exc:
        state = page.refused(exc, form, EDIT_FIELDS)
        forms = {f"bucket-{bucket_id}": state}
        return render_wallets(page, subscriber_id, wallet_type, forms, state.status)
    return _back(page, subscriber_id, wallet_type, "saved")


@router.post("/subscribers/{subscriber_id}/wallets/{tab}/buckets/{bucket_id}/delete")
def bucket_delete(
    subscriber_id: int,
    tab: str,
    bucket_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    wallet_type = tab_type(tab)
    wallet_id = _wallet_id(page, subscriber_id, wallet_type)
    try:
        page.services.wallets.delete_bucket(page.acting(form), wallet_id, bucket_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_wallets(page, subscriber_id, wallet_type, {"page": state}, state.status)
    return _back(page, subscriber_id, wallet_type, "deleted")


@router.post("/subscribers/{subscriber_id}/wallets/{tab}/{action}")
def credit(
    subscriber_id: int,
    tab: str,
    action: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    """A top-up (positive amount) or an adjustment (signed amount) of one balance."""
    wallet_type = tab_type(tab)
    if action not in ("top-up", "adjust"):
        raise not_found("wallet action", action)
    wallet_id = _wallet_id(page, subscriber_id, wallet_type)
    service = page.services.wallets
    try:
        amount = f.integer(form, "amount")
        if amount is None:
            raise invalid("amount", "enter an amount")
        operation = service.top_up if action == "top-up" else service.adjust
        operation(
            page.acting(form),
            wallet_id,
            form.get("balance_type", ""),
            amount,
            f.utc_datetime(form, "expires_at"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, CREDIT_FIELDS)
        return render_wallets(page, subscriber_id, wallet_type, {action: state}, state.status)
    return _back(page, subscriber_id, wallet_type, "saved")
