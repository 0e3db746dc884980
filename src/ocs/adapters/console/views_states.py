"""State changes of customers, accounts and subscribers, now or pending (confirm / cancel)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import CasmLevel
from ocs.core.errors import DomainError, ProblemKind

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_customers import render_account, render_customer
from .views_subscribers import render_subscriber

router = APIRouter()

Renderer = Callable[[Page, int, Mapping[str, FormState], int], Response]
RENDERERS: dict[CasmLevel, Renderer] = {
    CasmLevel.CUSTOMER: render_customer,
    CasmLevel.ACCOUNT: render_account,
    CasmLevel.SUBSCRIBER: render_subscriber,
}
STATE_FIELDS = ("state", "state_reason", "valid_from")
PENDING_NOTICES = {"confirm": "confirmed", "cancel": "cancelled"}


def _change_state(level: CasmLevel, page: Page, entity_id: int, form: Form) -> Response:
    try:
        page.services.casm.change_state(
            page.acting(form),
            level,
            entity_id,
            form.get("state", ""),
            f.text(form, "state_reason"),
            f.utc_datetime(form, "valid_from"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, STATE_FIELDS)
        return RENDERERS[level](page, entity_id, {"state": state}, state.status)
    return page.redirect(f"/{level.value}s/{entity_id}", notice="state")


def _resolve_pending(
    level: CasmLevel, page: Page, entity_id: int, change_id: int, action: str, form: Form
) -> Response:
    """Apply a pending state change now, or cancel it."""
    if action not in PENDING_NOTICES:
        raise DomainError(ProblemKind.NOT_FOUND, f"no such action {action!r}")
    casm = page.services.casm
    resolve = casm.confirm_state_change if action == "confirm" else casm.cancel_state_change
    try:
        resolve(page.acting(form), change_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return RENDERERS[level](page, entity_id, {"state": state}, state.status)
    return page.redirect(f"/{level.value}s/{entity_id}", notice=PENDING_NOTICES[action])


def _add_routes(level: CasmLevel) -> None:
    base = f"/{level.value}s/{{entity_id}}"

    def change(
        entity_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
    ) -> Response:
        return _change_state(level, page, entity_id, form)

    def resolve(
        entity_id: int,
        change_id: int,
        action: str,
        page: Page = Depends(operator_page),
        form: Form = Depends(posted_form),
    ) -> Response:
        return _resolve_pending(level, page, entity_id, change_id, action, form)

    router.add_api_route(f"{base}/state", change, methods=["POST"])
    router.add_api_route(
        f"{base}/state-changes/{{change_id}}/{{action}}", resolve, methods=["POST"]
    )


for _level in CasmLevel:
    _add_routes(_level)
