"""Credit cards (seed 003 "Credit Cards", seed 002 "Credit Card"): search the provider's cards,
add one, and a card's page with its expiry, name, state and registered subscribers; the
subscriber's Credit cards option lists its cards and adds one registered to it.

The full number and the CVC arrive only in POST bodies and go straight to the service: they
are dropped from every form that is shown again, so no page ever repeats them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import Subscriber
from ocs.core.credit_cards import (
    DEFAULT_SEARCH_STATES,
    EXPIRY_YEARS_AHEAD_MAX,
    SEARCH_ROWS_MAX,
    UNCONFIRMED,
    CardState,
    DeleteOutcome,
)
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.service.credit_cards import (
    CardInput,
    CardSearch,
    CardSearchResult,
    CardUpdate,
    CardView,
)

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_subscriber_features import render_option
from .views_wallets import visible_subscriber

router = APIRouter()

SECRET_FIELDS = frozenset({"number", "cvc"})
NEW_FIELDS = (
    "number",
    "masking_rule",
    "expiry_month",
    "expiry_year",
    "name_on_card",
    "cvc",
    "frozen",
    "accept_luhn_failure",
)
EDIT_FIELDS = ("expiry_month", "expiry_year", "name_on_card", "cvc")
SEARCH_FIELDS = ("display_number", "calling_card_id", "number", "masking_rule", "states")
MONTHS: tuple[Option, ...] = tuple((str(n), f"{n:02d}") for n in range(1, 13))
STATES: tuple[str, ...] = tuple(s.value for s in CardState)
DEFAULT_STATES = tuple(s.value for s in CardState if s in DEFAULT_SEARCH_STATES)
EMPTY = FormState()


def _shown(form: Form) -> dict[str, str]:
    """The form as it may be shown again: without the card number and the CVC."""
    return {k: v for k, v in form.items() if k not in SECRET_FIELDS}


def _refused(page: Page, exc: DomainError, form: Form, fields: Sequence[str]) -> FormState:
    return page.refused(exc, _shown(form), fields)


def _month_year(form: Form) -> tuple[int, int]:
    month, year = f.integer(form, "expiry_month"), f.integer(form, "expiry_year")
    if month is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "choose the expiry month", "expiry_month")
    if year is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "enter the expiry year", "expiry_year")
    return month, year


def _years(page: Page) -> tuple[int, int]:
    year = page.services.clock.now().year
    return year, year + EXPIRY_YEARS_AHEAD_MAX


def _rules(page: Page) -> tuple[Option, ...]:
    rules = page.services.credit_cards.list_rules(page.operator)
    return tuple((r.code, f"{r.name} ({r.code})") for r in rules)


def _card(page: Page, card_id: int) -> CardView:
    view = page.services.credit_cards.get(page.operator, card_id)
    if view.card.service_provider != page.provider:
        raise not_found("credit card", card_id)
    return view


def _card_input(page: Page, form: Form, subscriber_id: int | None) -> CardInput:
    month, year = _month_year(form)
    return CardInput(
        service_provider=page.require_provider(),
        masking_rule=form.get("masking_rule", ""),
        expiry_month=month,
        expiry_year=year,
        number=form.get("number", "").strip(),
        cvc=form.get("cvc", "").strip(),
        name_on_card=f.text(form, "name_on_card"),
        subscriber_id=subscriber_id,
        # Only the subscriber's screen offers the Frozen box: unregistered cards start frozen.
        frozen=subscriber_id is None or "frozen" in form,
        accept_luhn_failure="accept_luhn_failure" in form,
    )


# -- search ----------------------------------------------------------------------------------


def _search_page(
    page: Page,
    form: FormState,
    result: CardSearchResult | None,
    states: Sequence[str],
    status_code: int = 200,
) -> Response:
    return page.render(
        "cards/search.html",
        status_code=status_code,
        title="Credit cards",
        section="credit-cards",
        form=form,
        result=result,
        states=STATES,
        chosen_states=states,
        rules=_rules(page),
        rows_max=SEARCH_ROWS_MAX,
    )


def _search(page: Page, values: Mapping[str, str], states: Sequence[str]) -> Response:
    criteria = CardSearch(
        service_provider=page.require_provider(),
        display_number=f.text(values, "display_number"),
        masking_rule=f.text(values, "masking_rule"),
        calling_card_id=f.text(values, "calling_card_id"),
        number=f.text(values, "number"),
        states=tuple(states),
    )
    shown = FormState(_shown(values))
    try:
        result = page.services.credit_cards.search(page.operator, criteria)
    except DomainError as exc:
        state = page.refused(exc, _shown(values), SEARCH_FIELDS)
        return _search_page(page, state, None, states, state.status)
    return _search_page(page, shown, result, states)


@router.get("/credit-cards")
def card_search(page: Page = Depends(operator_page)) -> Response:
    query = page.request.query_params
    states = query.getlist("states") or list(DEFAULT_STATES)
    values = {
        k: query[k] for k in ("display_number", "calling_card_id", "masking_rule") if k in query
    }
    if not any(v.strip() for k, v in values.items() if k != "masking_rule"):
        return _search_page(page, FormState(values), None, states)
    return _search(page, values, states)


@router.post("/credit-cards/search")
async def card_search_posted(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """A search that may carry the full number: a POST, so the number stays out of the URL."""
    raw = await page.request.form()
    states = [v for v in raw.getlist("states") if isinstance(v, str)] or list(DEFAULT_STATES)
    return _search(page, form, states)


# -- a new card ------------------------------------------------------------------------------


def _new_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    first, last = _years(page)
    return page.render(
        "cards/new.html",
        status_code=status_code,
        title="New credit card",
        section="credit-cards",
        form=form,
        rules=_rules(page),
        months=MONTHS,
        year_min=first,
        year_max=last,
    )


@router.get("/credit-cards/new")
def card_new(page: Page = Depends(operator_page)) -> Response:
    return _new_page(page, FormState())


@router.post("/credit-cards/new")
def card_create(page: Page = Depends(operator_page), form: Form = Depends(posted_form)) -> Response:
    try:
        created = page.services.credit_cards.create(
            page.acting(form), _card_input(page, form, None)
        )
    except DomainError as exc:
        state = _refused(page, exc, form, NEW_FIELDS)
        return _new_page(page, state, state.status)
    return page.redirect(f"/credit-cards/{created.card.card.id}", notice="created")


# -- a card's page ---------------------------------------------------------------------------


def render_card(
    page: Page, card_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    view = _card(page, card_id)
    first, last = _years(page)
    states = {"edit": EMPTY, "state": EMPTY, "register": EMPTY, "rows": EMPTY, **(forms or {})}
    return page.render(
        "cards/detail.html",
        status_code=status,
        title=f"Credit card {view.card.display_number}",
        section="credit-cards",
        view=view,
        card=view.card,
        forms=states,
        months=MONTHS,
        year_min=first,
        year_max=last,
        unconfirmed=UNCONFIRMED,
    )


@router.get("/credit-cards/{card_id}")
def card_detail(card_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_card(page, card_id)


@router.post("/credit-cards/{card_id}")
def card_save(
    card_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    card = _card(page, card_id).card
    try:
        month, year = _month_year(form)
        name = f.text(form, "name_on_card")
        change = CardUpdate(
            # Unchanged expiry dates are not sent: an expired card's name can still be fixed.
            expiry_month=None if month == card.expiry_month else month,
            expiry_year=None if year == card.expiry_year else year,
            name_on_card=name,
            clear_name_on_card=name is None and card.name_on_card is not None,
            cvc=f.text(form, "cvc"),
        )
        page.services.credit_cards.update(page.acting(form), card_id, change)
    except DomainError as exc:
        state = _refused(page, exc, form, EDIT_FIELDS)
        return render_card(page, card_id, {"edit": state}, state.status)
    return page.redirect(f"/credit-cards/{card_id}", notice="saved")


@router.post("/credit-cards/{card_id}/state")
def card_state(
    card_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _card(page, card_id)
    service = page.services.credit_cards
    try:
        if form.get("state") == CardState.FROZEN.value:
            service.freeze(page.acting(form), card_id)
        else:
            service.unfreeze(page.acting(form), card_id)
    except DomainError as exc:
        state = page.refused(exc, form, ("state",))
        return render_card(page, card_id, {"state": state}, state.status)
    return page.redirect(f"/credit-cards/{card_id}", notice="state")


@router.post("/credit-cards/{card_id}/delete")
def card_delete(
    card_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _card(page, card_id)
    try:
        deleted = page.services.credit_cards.delete(page.acting(form), card_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_card(page, card_id, {"state": state}, state.status)
    if deleted.outcome is DeleteOutcome.DELETED:
        return page.redirect(f"/credit-cards/{card_id}", notice="deleted")
    return page.redirect("/credit-cards", notice="deleted")


def _subscriber_by_cli(page: Page, form: Form) -> Subscriber:
    cli = form.get("subscriber", "").strip()
    if not cli:
        raise DomainError(ProblemKind.MISSING_FIELD, "enter the subscriber ID", "subscriber")
    found = page.services.casm.search_subscribers(
        page.operator, page.require_provider(), "subscriber_id", cli, exact=True
    )
    if not found:
        raise invalid("subscriber", f"no subscriber has the ID {cli!r}")
    return found[0]


@router.post("/credit-cards/{card_id}/registrations")
def card_register(
    card_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _card(page, card_id)
    try:
        subscriber = _subscriber_by_cli(page, form)
        page.services.credit_cards.register(page.acting(form), card_id, subscriber.id)
    except DomainError as exc:
        state = page.refused(exc, form, ("subscriber",), {"subscriber_id": "subscriber"})
        return render_card(page, card_id, {"register": state}, state.status)
    return page.redirect(f"/credit-cards/{card_id}", notice="saved")


REGISTRATION_ACTIONS = ("confirm", "primary", "deregister", "freeze-wallet")


@router.post("/credit-cards/{card_id}/registrations/{subscriber_id}/{action}")
def registration_action(
    card_id: int,
    subscriber_id: int,
    action: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    if action not in REGISTRATION_ACTIONS:
        raise not_found("action", action)
    _card(page, card_id)
    service = page.services.credit_cards
    actor = page.acting(form)
    try:
        if action == "confirm":
            service.confirm(actor, card_id, subscriber_id)
        elif action == "primary":
            service.set_primary(actor, card_id, subscriber_id)
        elif action == "deregister":
            service.deregister(actor, card_id, subscriber_id)
        else:
            service.freeze_wallet(actor, card_id, subscriber_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_card(page, card_id, {"rows": state}, state.status)
    back = form.get("back", "")
    if back.startswith("/subscribers/"):
        return page.redirect(back, notice="saved")
    return page.redirect(f"/credit-cards/{card_id}", notice="saved")


# -- the subscriber's Credit cards option ----------------------------------------------------


def _registration_state(view: CardView, subscriber_id: int) -> str:
    for registration in view.registrations:
        if registration.subscriber_id == subscriber_id:
            return registration.state.value
    return ""


def _subscriber_cards(
    page: Page, subscriber_id: int, form: FormState | None = None, status: int = 200
) -> Response:
    views = page.services.credit_cards.cards_of_subscriber(page.operator, subscriber_id)
    rows = [(v, _registration_state(v, subscriber_id)) for v in views]
    first, last = _years(page)
    return render_option(
        page,
        subscriber_id,
        "cards/subscriber.html",
        "credit-cards",
        "Credit cards",
        {"add": form or FormState({"frozen": "on"})},
        status,
        rows=rows,
        rules=_rules(page),
        months=MONTHS,
        year_min=first,
        year_max=last,
        unconfirmed=UNCONFIRMED,
    )


@router.get("/subscribers/{subscriber_id}/credit-cards")
def subscriber_cards(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _subscriber_cards(page, subscriber_id)


@router.post("/subscribers/{subscriber_id}/credit-cards")
def subscriber_card_create(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    # Resolve the subscriber in the operator's provider before anything is created for it.
    visible_subscriber(page, subscriber_id)
    try:
        inp = _card_input(page, form, subscriber_id)
        page.services.credit_cards.create(page.acting(form), inp)
    except DomainError as exc:
        state = _refused(page, exc, form, NEW_FIELDS)
        return _subscriber_cards(page, subscriber_id, state, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/credit-cards", notice="created")
