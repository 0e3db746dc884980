"""Recharge with a voucher, reached from the subscriber's Wallets option: the voucher number,
its secret and, once the subscriber is blacklisted after failed recharges, the scratch card's
serial number. The page also shows the subscriber's voucher blacklist state, which operators
who may modify subscribers can clear.

The secret is never written back into a page: a refused recharge shows the form again with the
secret field empty."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.edr import EdrType
from ocs.core.errors import DomainError, not_found
from ocs.core.security import Privilege
from ocs.core.wallets import WalletType
from ocs.service.vouchers import BlacklistView, RechargeRequest

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_subscriber_features import render_option
from .views_wallets import WALLET_TABS, tab_type, visible_subscriber, wallet_of

router = APIRouter()

OPTION = "wallets"
HEADING = "Voucher recharge"
RECHARGE_FIELDS = ("voucher_number", "secret", "serial_number", "wallet_type")
# Never echoed back into a page.
NOT_ECHOED = ("secret", "csrf_token", "change_reason")
CLEARED = "cleared"


def _wallet_types(page: Page, subscriber_id: int) -> list[tuple[str, str]]:
    return [
        (t.value, t.value.capitalize())
        for t in WALLET_TABS
        if wallet_of(page, subscriber_id, t) is not None
    ]


def _recharge_page(
    page: Page,
    subscriber_id: int,
    form: FormState,
    status_code: int = 200,
    blacklist: FormState | None = None,
) -> Response:
    blacklist_view: BlacklistView = page.services.vouchers.blacklist(page.operator, subscriber_id)
    return render_option(
        page,
        subscriber_id,
        "recharge/voucher_form.html",
        OPTION,
        HEADING,
        {"recharge": form, "blacklist": blacklist or FormState()},
        status_code,
        blacklist_view=blacklist_view,
        wallet_types=_wallet_types(page, subscriber_id),
        may_change=page.can(Privilege.MODIFY),
        cleared=page.request.query_params.get("done") == CLEARED,
    )


@router.get("/subscribers/{subscriber_id}/voucher-recharge")
def recharge_form(
    subscriber_id: int, type: str = "PRIMARY", page: Page = Depends(operator_page)
) -> Response:
    visible_subscriber(page, subscriber_id)
    return _recharge_page(page, subscriber_id, FormState({"wallet_type": tab_type(type).value}))


@router.post("/subscribers/{subscriber_id}/voucher-recharge")
def recharge(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    visible_subscriber(page, subscriber_id)
    kept = {k: v for k, v in form.items() if k not in NOT_ECHOED}
    try:
        request = RechargeRequest(
            voucher_number=form.get("voucher_number", ""),
            secret=form.get("secret", ""),
            subscriber_id=subscriber_id,
            serial_number=form.get("serial_number", "").strip() or None,
            wallet_type=form.get("wallet_type", WalletType.PRIMARY.value),
        )
        result = page.services.vouchers.recharge(page.acting(form), request)
    except DomainError as exc:
        state = page.refused(exc, kept, RECHARGE_FIELDS)
        return _recharge_page(page, subscriber_id, state, state.status)
    # Redirect so that reloading the result cannot submit the voucher again.
    path = f"/subscribers/{subscriber_id}/voucher-recharge/result"
    return page.redirect(path, edr=result.applied.edr.id)


@router.get("/subscribers/{subscriber_id}/voucher-recharge/result")
def recharge_result(subscriber_id: int, edr: int, page: Page = Depends(operator_page)) -> Response:
    """What a voucher recharge credited: the RECHARGE EDR's balances before and after."""
    visible_subscriber(page, subscriber_id)
    record = page.services.edrs.get(page.operator, edr)
    tags = dict(record.tags)
    if record.type is not EdrType.RECHARGE or record.subscriber_id != subscriber_id:
        raise not_found("voucher recharge EDR", edr)
    if "VOUCHER" not in tags:
        raise not_found("voucher recharge EDR", edr)
    return render_option(
        page,
        subscriber_id,
        "recharge/voucher_result.html",
        OPTION,
        HEADING,
        edr=record,
        voucher_number=tags["VOUCHER"],
        voucher_type=tags.get("VOUCHER_TYPE"),
        wallet_type=record.wallet_type or WalletType.PRIMARY,
    )


@router.post("/subscribers/{subscriber_id}/voucher-blacklist/clear")
def clear_blacklist(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    visible_subscriber(page, subscriber_id)
    try:
        page.services.vouchers.clear_blacklist(page.acting(form), subscriber_id)
    except DomainError as exc:
        state = page.refused(exc, {})
        return _recharge_page(page, subscriber_id, FormState(), state.status, blacklist=state)
    return page.redirect(f"/subscribers/{subscriber_id}/voucher-recharge", done=CLEARED)
