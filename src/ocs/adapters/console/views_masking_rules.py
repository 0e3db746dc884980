"""Credit card masking rules (seed 003 "Credit Cards"): how a card number is shown, the first
digits, a padding character per hidden digit, the last digits. Listed with the cards; made and
deleted by operators with the create/delete privilege."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form

router = APIRouter()
RULE_FIELDS = ("code", "name", "prefix_length", "suffix_length", "padding")


def _rules_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "cards/rules.html",
        status_code=status_code,
        title="Masking rules",
        section="credit-cards",
        rules=page.services.credit_cards.list_rules(page.operator),
        form=form,
    )


@router.get("/credit-card-rules")
def rules(page: Page = Depends(operator_page)) -> Response:
    return _rules_page(page, FormState())


@router.post("/credit-card-rules")
def rule_create(page: Page = Depends(operator_page), form: Form = Depends(posted_form)) -> Response:
    try:
        page.services.credit_cards.create_rule(
            page.acting(form),
            f.text(form, "code") or "",
            f.text(form, "name") or "",
            f.integer(form, "prefix_length") or 0,
            f.integer(form, "suffix_length") or 0,
            form.get("padding", ""),
        )
    except DomainError as exc:
        state = page.refused(exc, form, RULE_FIELDS)
        return _rules_page(page, state, state.status)
    return page.redirect("/credit-card-rules", notice="created")


@router.post("/credit-card-rules/{code}/delete")
def rule_delete(
    code: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.credit_cards.delete_rule(page.acting(form), code)
    except DomainError as exc:
        state = page.refused(exc, {}, ())
        return _rules_page(page, state, state.status)
    return page.redirect("/credit-card-rules", notice="deleted")
