"""The subscriber's Reservations option: balances with what open reservations hold, the
reservations of the wallet, Refresh, and commit / revoke / delete by the operator."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError, not_found
from ocs.core.wallets import WalletType
from ocs.service.reservations import OPERATOR_OUTCOMES

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_wallets import WALLET_TABS, tab_type, visible_subscriber, wallet_of

router = APIRouter()


def render_reservations(
    page: Page,
    subscriber_id: int,
    wallet_type: WalletType,
    refused: FormState | None = None,
    status_code: int = 200,
) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    view = wallet_of(page, subscriber_id, wallet_type)
    service = page.services.reservations
    wallet_id = None if view is None else view.wallet.id
    return page.render(
        "subscribers/reservations_live.html" if page.htmx else "subscribers/reservations.html",
        status_code=status_code,
        title=f"Subscriber {subscriber.subscriber_id} · reservations",
        section="subscribers",
        option="reservations",
        subscriber=subscriber,
        tabs=WALLET_TABS,
        wallet_type=wallet_type,
        view=view,
        balances=[] if wallet_id is None else service.balances(page.operator, wallet_id),
        reservations=[] if wallet_id is None else service.reservations(page.operator, wallet_id),
        actions=tuple(OPERATOR_OUTCOMES),
        refreshed_at=page.services.clock.now(),
        general=[] if refused is None else refused.general,
    )


@router.get("/subscribers/{subscriber_id}/reservations")
def reservations(
    subscriber_id: int, type: str = "PRIMARY", page: Page = Depends(operator_page)
) -> Response:
    return render_reservations(page, subscriber_id, tab_type(type))


@router.post("/subscribers/{subscriber_id}/reservations/{tab}/{reservation_id}/{action}")
def reservation_act(
    subscriber_id: int,
    tab: str,
    reservation_id: int,
    action: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    wallet_type = tab_type(tab)
    visible_subscriber(page, subscriber_id)
    view = wallet_of(page, subscriber_id, wallet_type)
    if view is None:
        raise not_found(f"{wallet_type.value.lower()} wallet of subscriber", subscriber_id)
    try:
        page.services.reservations.act(page.acting(form), reservation_id, action)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_reservations(page, subscriber_id, wallet_type, state, state.status)
    path = f"/subscribers/{subscriber_id}/reservations"
    return page.redirect(path, notice=action, type=wallet_type.value)
