"""Notifications: the delivery outbox with filters and a bar chart of deliveries per state, a
delivery's page with the operator's retry of a FAILED one, and the message templates per kind,
channel and language (list, new, edit, delete)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError
from ocs.core.notifications import (
    DEFAULT_LANGUAGE,
    Delivery,
    DeliveryState,
    NotificationChannel,
    NotificationKind,
    NotificationTemplate,
    allowed_params,
)
from ocs.core.security import Privilege
from ocs.service.notifications import DeliveryFilter, TemplateInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option

router = APIRouter()

DELIVERY_ROWS = 100
TEMPLATE_FIELDS = ("kind", "channel", "language", "subject", "body")
FILTER_FIELDS = ("state", "channel", "kind")
STATES: tuple[Option, ...] = tuple((s.value, s.value) for s in DeliveryState)
CHANNELS: tuple[Option, ...] = tuple((c.value, c.value) for c in NotificationChannel)
KINDS: tuple[Option, ...] = tuple((k.value, k.value) for k in NotificationKind)
# Templates are for messages people read; a webhook gets the event as JSON.
TEMPLATE_CHANNELS: tuple[Option, ...] = tuple(
    (c.value, c.value) for c in NotificationChannel if c is not NotificationChannel.WEBHOOK
)
# Bar chart geometry in SVG user units; colours by state (presentation attributes, no CSS).
CHART_WIDTH = 480
CHART_LABEL_WIDTH = 90
CHART_BAR_HEIGHT = 18
CHART_GAP = 8
STATE_COLOURS = {
    DeliveryState.PENDING: "#b7791f",
    DeliveryState.SENDING: "#1f6feb",
    DeliveryState.SENT: "#1a7f37",
    DeliveryState.FAILED: "#cf222e",
    DeliveryState.SKIPPED: "#8c959f",
}


@dataclass(frozen=True)
class Bar:
    state: DeliveryState
    count: int
    width: int
    y: int
    colour: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    total: int
    label_width: int = CHART_LABEL_WIDTH
    bar_height: int = CHART_BAR_HEIGHT
    width: int = CHART_WIDTH


def state_chart(counts: Mapping[DeliveryState, int]) -> Chart:
    """One horizontal bar per delivery state, the longest filling the plot width."""
    plot = CHART_WIDTH - CHART_LABEL_WIDTH - 60  # room for the count after the bar
    largest = max(counts.values(), default=0)
    bars = []
    for i, state in enumerate(DeliveryState):
        count = counts.get(state, 0)
        width = 0 if largest == 0 else max(1 if count else 0, count * plot // largest)
        y = CHART_GAP + i * (CHART_BAR_HEIGHT + CHART_GAP)
        bars.append(Bar(state, count, width, y, STATE_COLOURS[state]))
    height = CHART_GAP + len(bars) * (CHART_BAR_HEIGHT + CHART_GAP)
    return Chart(bars, height, sum(counts.values()))


# -- the outbox ---------------------------------------------------------------------------------


@router.get("/notifications")
def outbox(
    state: str = "", channel: str = "", kind: str = "", page: Page = Depends(operator_page)
) -> Response:
    query = {"state": state, "channel": channel, "kind": kind}
    general: list[str] = []
    errors: dict[str, str] = {}
    deliveries: list[Delivery] = []
    try:
        deliveries = page.services.notifications.list_deliveries(
            page.operator,
            DeliveryFilter(
                state=state or None, channel=channel or None, kind=kind or None, limit=DELIVERY_ROWS
            ),
        )
    except DomainError as exc:
        refused = page.refused(exc, query, FILTER_FIELDS)
        general, errors = refused.general, refused.errors
    return page.render(
        "notifications/outbox.html",
        title="Notifications",
        section="notifications",
        tab="outbox",
        filters=FormState(query, errors, general),
        deliveries=deliveries,
        rows_max=DELIVERY_ROWS,
        chart=state_chart(page.services.notifications.counts(page.operator)),
        states=STATES,
        channels=CHANNELS,
        kinds=KINDS,
    )


def render_delivery(
    page: Page, delivery_id: int, refused: FormState | None = None, status_code: int = 200
) -> Response:
    delivery = page.services.notifications.get_delivery(page.operator, delivery_id)
    return page.render(
        "notifications/delivery.html",
        status_code=status_code,
        title=f"Delivery {delivery_id}",
        section="notifications",
        delivery=delivery,
        may_retry=delivery.state is DeliveryState.FAILED and page.can(Privilege.EXECUTE),
        general=[] if refused is None else refused.general,
    )


@router.get("/notifications/deliveries/{delivery_id}")
def delivery_detail(delivery_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_delivery(page, delivery_id)


@router.post("/notifications/deliveries/{delivery_id}/retry")
def delivery_retry(
    delivery_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.notifications.retry(page.acting(form), delivery_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_delivery(page, delivery_id, state, state.status)
    return page.redirect(f"/notifications/deliveries/{delivery_id}", notice="retry")


# -- templates ----------------------------------------------------------------------------------


def _template_path(t: NotificationTemplate) -> str:
    return f"/notifications/templates/{t.kind.value}/{t.channel.value}/{t.language}"


@router.get("/notifications/templates")
def template_list(page: Page = Depends(operator_page)) -> Response:
    templates = page.services.notifications.list_templates(page.operator)
    return page.render(
        "notifications/templates.html",
        title="Notification templates",
        section="notifications",
        tab="templates",
        templates=templates,
        path_of=_template_path,
    )


def _template_page(
    page: Page,
    form: FormState,
    template: NotificationTemplate | None = None,
    status_code: int = 200,
) -> Response:
    kind = form.value("kind") or (template.kind.value if template else "")
    known = kind in NotificationKind.__members__
    params = sorted(allowed_params(NotificationKind(kind))) if known else []
    return page.render(
        "notifications/template.html",
        status_code=status_code,
        title="New template" if template is None else "Notification template",
        section="notifications",
        tab="templates",
        form=form,
        entry=template,
        kinds=KINDS,
        channels=TEMPLATE_CHANNELS,
        params=params,
    )


@router.get("/notifications/templates/new")
def template_new(page: Page = Depends(operator_page)) -> Response:
    return _template_page(page, FormState({"language": DEFAULT_LANGUAGE}))


def _template_input(form: Form) -> TemplateInput:
    return TemplateInput(
        kind=form.get("kind", ""),
        channel=form.get("channel", ""),
        language=form.get("language", ""),
        body=form.get("body", ""),
        subject=f.text(form, "subject"),
    )


@router.post("/notifications/templates/new")
def template_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        saved = page.services.notifications.put_template(page.acting(form), _template_input(form))
    except DomainError as exc:
        state = page.refused(exc, form, TEMPLATE_FIELDS)
        return _template_page(page, state, status_code=state.status)
    return page.redirect(_template_path(saved), notice="created")


def _template_values(t: NotificationTemplate) -> dict[str, str]:
    return {
        "kind": t.kind.value,
        "channel": t.channel.value,
        "language": t.language,
        "subject": t.subject or "",
        "body": t.body,
    }


@router.get("/notifications/templates/{kind}/{channel}/{language}")
def template_detail(
    kind: str, channel: str, language: str, page: Page = Depends(operator_page)
) -> Response:
    found = page.services.notifications.get_template(page.operator, kind, channel, language)
    return _template_page(page, FormState(_template_values(found)), found)


@router.post("/notifications/templates/{kind}/{channel}/{language}")
def template_save(
    kind: str,
    channel: str,
    language: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    """Kind, channel and language name the template: an edit changes subject and body."""
    found = page.services.notifications.get_template(page.operator, kind, channel, language)
    values = {**form, **_template_values(found), "subject": form.get("subject", ""),
              "body": form.get("body", "")}  # fmt: skip
    try:
        page.services.notifications.put_template(page.acting(form), _template_input(values))
    except DomainError as exc:
        state = page.refused(exc, values, TEMPLATE_FIELDS)
        return _template_page(page, state, found, state.status)
    return page.redirect(_template_path(found), notice="saved")


@router.post("/notifications/templates/{kind}/{channel}/{language}/delete")
def template_delete(
    kind: str,
    channel: str,
    language: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    found = page.services.notifications.get_template(page.operator, kind, channel, language)
    try:
        page.services.notifications.delete_template(page.acting(form), kind, channel, language)
    except DomainError as exc:
        state = page.refused(exc, form)
        refused = FormState(_template_values(found), general=state.general)
        return _template_page(page, refused, found, state.status)
    return page.redirect("/notifications/templates", notice="deleted")
