"""The offer catalogue (seeds 000, 001, 004): Balance and Recurrent Cost Control Balance
services, products that group services, offers that group products (list, new, edit, delete),
and the subscriber's Subscriptions option: subscribe to an offer, see each subscription's
state, start and end and the grants it made, end a subscription."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.offers import (
    RECURRENCE_FIELDS,
    BalanceGrant,
    BalanceService,
    CreateBalanceAt,
    GrantUnit,
    Offer,
    PeriodUnit,
    Product,
    ProRateMode,
    RolloverPriority,
    ServiceKind,
    Subscription,
    SubscriptionLevel,
    SubscriptionState,
    TimeUnit,
    format_pct,
    service_payload,
)
from ocs.core.wallets import WalletType
from ocs.service.offers import SubscriptionInput, current_payload

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_customers import config_options
from .views_wallets import visible_subscriber

router = APIRouter()

EMPTY = FormState()
SERVICE_BOOLS = (
    "reject_at_full",
    "first_usage_notify",
    "include_sub_classes",
    "execute_immediately",
    "prorate_when_activated",
    "prorate_when_not_charged",
    "on_recurrence_notify",
)
SERVICE_INTS = ("granted", "validity", "every", "recurrence_cycles", "rollover_periods")
SERVICE_CHOICES = (
    "kind",
    "unit",
    "validity_unit",
    "create_balance_at",
    "period_unit",
    "prorate_mode",
    "rollover_priority",
)
SERVICE_FIELDS = (
    "code", "name", "description", "currency", "thresholds_pct", "charging_classes",
    *SERVICE_BOOLS, *SERVICE_INTS, *SERVICE_CHOICES,
)  # fmt: skip
SUBSCRIBE_FIELDS = ("offer", "level", "start_at", "end_at", "wallet_id", "entity_id")
END_FIELDS = ("end_at",)
LEVELS: tuple[Option, ...] = (
    (SubscriptionLevel.SUBSCRIBER.value, "Subscriber"),
    (SubscriptionLevel.ACCOUNT.value, "Account of the subscriber"),
    (SubscriptionLevel.CUSTOMER.value, "Customer of the subscriber"),
)


def _choices(kind: type[StrEnum]) -> tuple[Option, ...]:
    return tuple((m.value, m.value.replace("_", " ").capitalize()) for m in kind)


SERVICE_OPTIONS: Mapping[str, tuple[Option, ...]] = {
    "kind": (
        (ServiceKind.BALANCE.value, "Balance"),
        (ServiceKind.RECURRENT_COST_CONTROL_BALANCE.value, "Recurrent cost control balance"),
    ),
    "unit": _choices(GrantUnit),
    "validity_unit": _choices(TimeUnit),
    "period_unit": _choices(PeriodUnit),
    "create_balance_at": _choices(CreateBalanceAt),
    "prorate_mode": _choices(ProRateMode),
    "rollover_priority": _choices(RolloverPriority),
}


def _at_field(exc: DomainError) -> DomainError:
    """`charging_classes[1]` -> `charging_classes`: the form shows lists as one field."""
    if exc.field is not None and "[" in exc.field:
        return DomainError(exc.kind, exc.detail, exc.field.split("[", 1)[0])
    return exc


def _ticked(form: Form, prefix: str) -> list[str]:
    """The codes of the ticked checkboxes named `prefix:CODE`, in form order."""
    return [name.split(":", 1)[1] for name in form if name.startswith(f"{prefix}:")]


def _as_values(payload: Mapping[str, object], lists: Sequence[str]) -> dict[str, str]:
    """A stored entity as form values (checkbox lists as `name:CODE` entries)."""
    values: dict[str, str] = {}
    for name, value in payload.items():
        if name in lists and isinstance(value, list | tuple):
            values.update({f"{name}:{code}": "on" for code in value})
        elif isinstance(value, bool):
            if value:
                values[name] = "on"
        elif name == "thresholds_pct" and isinstance(value, list):
            values[name] = format_pct(value)
        elif value is not None:
            values[name] = str(value)
    return values


# -- services -----------------------------------------------------------------------------------


def _thresholds(form: Form) -> list[int]:
    text = form.get("thresholds_pct", "")
    try:
        return [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise invalid(
            "thresholds_pct", "thresholds must be whole percentages separated by commas"
        ) from None


def service_form_payload(form: Form, kind: str, creating: bool) -> dict[str, object]:
    """The service's fields from the form; recurrence fields only for a recurrent service,
    identity fields only when creating (they are fixed afterwards)."""
    payload: dict[str, object] = {
        "name": form.get("name", ""),
        "description": f.text(form, "description"),
        "granted": f.integer(form, "granted"),
        "thresholds_pct": _thresholds(form),
        "validity": f.integer(form, "validity"),
        "validity_unit": f.text(form, "validity_unit"),
        "charging_classes": _ticked(form, "charging_classes"),
    }
    for name in ("reject_at_full", "first_usage_notify", "include_sub_classes"):
        payload[name] = name in form
    if creating:
        payload.update(
            code=form.get("code", ""),
            kind=kind,
            unit=f.text(form, "unit"),
            currency=f.text(form, "currency"),
        )
    if kind == ServiceKind.RECURRENT_COST_CONTROL_BALANCE.value:
        for name in RECURRENCE_FIELDS:
            if name in SERVICE_BOOLS:
                payload[name] = name in form
            elif name in SERVICE_INTS:
                payload[name] = f.integer(form, name)
            else:
                payload[name] = f.text(form, name)
    return payload


def _service_page(
    page: Page,
    form: FormState,
    service: BalanceService | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "offers/service.html",
        status_code=status_code,
        title="New service" if service is None else f"Service {service.code}",
        section="catalogue",
        tab="services",
        form=form,
        service=service,
        options=SERVICE_OPTIONS,
        currencies=config_options(page, ConfigKind.CURRENCY),
        charging_classes=config_options(page, ConfigKind.CHARGING_CLASS),
    )


@router.get("/catalogue/services")
def service_list(page: Page = Depends(operator_page)) -> Response:
    provider = page.require_provider()
    services = [
        s
        for s in page.services.offers.list_services(page.operator)
        if s.service_provider == provider
    ]
    return page.render(
        "offers/services.html",
        title="Services",
        section="catalogue",
        tab="services",
        services=services,
    )


@router.get("/catalogue/services/new")
def service_new(page: Page = Depends(operator_page)) -> Response:
    return _service_page(page, FormState())


@router.post("/catalogue/services/new")
def service_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        payload = service_form_payload(form, form.get("kind", ""), creating=True)
        payload["service_provider"] = page.require_provider()
        service = page.services.offers.create_service(page.acting(form), payload)
    except DomainError as exc:
        state = page.refused(_at_field(exc), form, SERVICE_FIELDS)
        return _service_page(page, state, status_code=state.status)
    return page.redirect(f"/catalogue/services/{service.code}", notice="created")


def _own_service(page: Page, code: str) -> BalanceService:
    service = page.services.offers.get_service(page.operator, code)
    if service.service_provider != page.provider:
        raise not_found("service", code)
    return service


@router.get("/catalogue/services/{code}")
def service_detail(code: str, page: Page = Depends(operator_page)) -> Response:
    service = _own_service(page, code)
    values = _as_values(service_payload(service), ("charging_classes",))
    return _service_page(page, FormState(values), service)


@router.post("/catalogue/services/{code}")
def service_save(
    code: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = _own_service(page, code)
    try:
        payload = service_form_payload(form, service.kind.value, creating=False)
        page.services.offers.update_service(page.acting(form), code, payload)
    except DomainError as exc:
        state = page.refused(_at_field(exc), form, SERVICE_FIELDS)
        return _service_page(page, state, service, state.status)
    return page.redirect(f"/catalogue/services/{code}", notice="saved")


@router.post("/catalogue/services/{code}/delete")
def service_delete(
    code: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = _own_service(page, code)
    try:
        page.services.offers.delete_service(page.acting(form), code)
    except DomainError as exc:
        state = page.refused(exc, form)
        values = _as_values(service_payload(service), ("charging_classes",))
        return _service_page(page, FormState(values, general=state.general), service, state.status)
    return page.redirect("/catalogue/services", notice="deleted")


# -- products and offers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Products group services and offers group products: the same screens."""

    path: str  # under /catalogue
    label: str
    members: str  # the payload field listing the member codes
    member_label: str
    member_path: str

    @property
    def fields(self) -> tuple[str, ...]:
        return ("code", "name", "description", "priority", self.members)


PRODUCTS = Group("products", "Product", "services", "Services", "services")
OFFERS = Group("offers", "Offer", "products", "Products", "products")


def _group_list(page: Page, group: Group) -> Sequence[Product | Offer]:
    svc = page.services.offers
    found = (
        svc.list_products(page.operator) if group is PRODUCTS else svc.list_offers(page.operator)
    )
    return [e for e in found if e.service_provider == page.provider]


def _group_get(page: Page, group: Group, code: str) -> Product | Offer:
    svc = page.services.offers
    found: Product | Offer
    if group is PRODUCTS:
        found = svc.get_product(page.operator, code)
    else:
        found = svc.get_offer(page.operator, code)
    if found.service_provider != page.provider:
        raise not_found(group.label.lower(), code)
    return found


def _group_save(
    page: Page, group: Group, form: Form, code: str | None, payload: dict[str, object]
) -> Product | Offer:
    """Create (code None) or update one product or offer."""
    svc = page.services.offers
    actor = page.acting(form)
    if group is PRODUCTS:
        if code is None:
            return svc.create_product(actor, payload)
        return svc.update_product(actor, code, payload)
    if code is None:
        return svc.create_offer(actor, payload)
    return svc.update_offer(actor, code, payload)


def _group_delete(page: Page, group: Group, form: Form, code: str) -> None:
    if group is PRODUCTS:
        page.services.offers.delete_product(page.acting(form), code)
    else:
        page.services.offers.delete_offer(page.acting(form), code)


def _member_options(page: Page, group: Group) -> list[Option]:
    svc = page.services.offers
    if group is PRODUCTS:
        services = svc.list_services(page.operator)
        return [
            (s.code, f"{s.code} - {s.name}")
            for s in services
            if s.service_provider == page.provider
        ]
    products = svc.list_products(page.operator)
    return [
        (p.code, f"{p.code} - {p.name}") for p in products if p.service_provider == page.provider
    ]


def _group_payload(group: Group, form: Form, creating: bool) -> dict[str, object]:
    payload: dict[str, object] = {
        "name": form.get("name", ""),
        "description": f.text(form, "description"),
        group.members: _ticked(form, group.members),
    }
    if group is OFFERS:
        payload["priority"] = f.integer(form, "priority")
    if creating:
        payload["code"] = form.get("code", "")
    return payload


def _group_page(
    page: Page,
    group: Group,
    form: FormState,
    entity: Product | Offer | None = None,
    status_code: int = 200,
) -> Response:
    title = f"New {group.label.lower()}" if entity is None else f"{group.label} {entity.code}"
    return page.render(
        "offers/group.html",
        status_code=status_code,
        title=title,
        section="catalogue",
        tab=group.path,
        group=group,
        form=form,
        entity=entity,
        members=_member_options(page, group),
    )


def _group_routes(group: Group) -> None:
    """List, new, edit and delete routes of products or offers."""
    base = f"/catalogue/{group.path}"

    def listing(page: Page = Depends(operator_page)) -> Response:
        page.require_provider()
        return page.render(
            "offers/groups.html",
            title=f"{group.label}s",
            section="catalogue",
            tab=group.path,
            group=group,
            entities=_group_list(page, group),
        )

    def new(page: Page = Depends(operator_page)) -> Response:
        values = {"priority": "100"} if group is OFFERS else {}
        return _group_page(page, group, FormState(values) if values else FormState())

    def create(page: Page = Depends(operator_page), form: Form = Depends(posted_form)) -> Response:
        try:
            payload = _group_payload(group, form, creating=True)
            payload["service_provider"] = page.require_provider()
            entity = _group_save(page, group, form, None, payload)
        except DomainError as exc:
            state = page.refused(_at_field(exc), form, group.fields)
            return _group_page(page, group, state, status_code=state.status)
        return page.redirect(f"{base}/{entity.code}", notice="created")

    def detail(code: str, page: Page = Depends(operator_page)) -> Response:
        entity = _group_get(page, group, code)
        values = _as_values(current_payload(entity), (group.members,))
        return _group_page(page, group, FormState(values), entity)

    def save(
        code: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
    ) -> Response:
        entity = _group_get(page, group, code)
        try:
            _group_save(page, group, form, code, _group_payload(group, form, creating=False))
        except DomainError as exc:
            state = page.refused(_at_field(exc), form, group.fields)
            return _group_page(page, group, state, entity, state.status)
        return page.redirect(f"{base}/{code}", notice="saved")

    def delete(
        code: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
    ) -> Response:
        entity = _group_get(page, group, code)
        try:
            _group_delete(page, group, form, code)
        except DomainError as exc:
            state = page.refused(exc, form)
            values = _as_values(current_payload(entity), (group.members,))
            refused = FormState(values, general=state.general)
            return _group_page(page, group, refused, entity, state.status)
        return page.redirect(base, notice="deleted")

    router.add_api_route(base, listing, methods=["GET"])
    router.add_api_route(f"{base}/new", new, methods=["GET"])
    router.add_api_route(f"{base}/new", create, methods=["POST"])
    router.add_api_route(f"{base}/{{code}}", detail, methods=["GET"])
    router.add_api_route(f"{base}/{{code}}", save, methods=["POST"])
    router.add_api_route(f"{base}/{{code}}/delete", delete, methods=["POST"])


_group_routes(PRODUCTS)
_group_routes(OFFERS)


# -- the subscriber's Subscriptions option --------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    grants: list[BalanceGrant]
    offer_name: str

    @property
    def active(self) -> bool:
        return self.subscription.state is SubscriptionState.ACTIVE


def _rows(page: Page, subscriber_id: int) -> list[SubscriptionRow]:
    subscriptions = page.services.offers.subscriptions_of_subscriber(page.operator, subscriber_id)
    names = {o.code: o.name for o in page.services.offers.list_offers(page.operator)}
    grants_by_wallet: dict[int, list[BalanceGrant]] = {}
    for sub in subscriptions:
        if sub.wallet_id not in grants_by_wallet:
            grants_by_wallet[sub.wallet_id] = page.services.grants.grants_of_wallet(
                page.operator, sub.wallet_id
            )
    return [
        SubscriptionRow(
            sub,
            [g for g in grants_by_wallet[sub.wallet_id] if g.subscription_id == sub.id],
            names.get(sub.offer, sub.offer),
        )
        for sub in subscriptions
    ]


def render_subscriptions(
    page: Page,
    subscriber_id: int,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    offers = [(o.code, f"{o.code} - {o.name}") for o in _group_list(page, OFFERS)]
    return page.render(
        "offers/subscriptions.html",
        status_code=status_code,
        title=f"Subscriber {subscriber.subscriber_id} · subscriptions",
        section="subscribers",
        option="subscriptions",
        heading="Subscriptions",
        subscriber=subscriber,
        rows=_rows(page, subscriber_id),
        offers=offers,
        levels=LEVELS,
        forms={"subscribe": EMPTY, **(forms or {})},
        empty_form=EMPTY,
        general=[],
        now=page.services.clock.now(),
    )


@router.get("/subscribers/{subscriber_id}/subscriptions")
def subscriptions(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_subscriptions(page, subscriber_id)


def _subscription_input(page: Page, subscriber_id: int, form: Form) -> SubscriptionInput:
    """Subscriber level uses the subscriber's primary wallet (the service's default); account
    and customer level name the subscriber's account or customer and its primary wallet."""
    subscriber = visible_subscriber(page, subscriber_id)
    level = form.get("level") or SubscriptionLevel.SUBSCRIBER.value
    entity_id = subscriber.id
    wallet_id: int | None = None
    if level != SubscriptionLevel.SUBSCRIBER.value:
        account = page.services.casm.get_account(page.operator, subscriber.account_id)
        entity_id = account.id if level == SubscriptionLevel.ACCOUNT else account.customer_id
        for view in page.services.wallets.subscriber_wallets(page.operator, subscriber.id):
            if any(
                link.subscriber_id == subscriber.id and link.wallet_type is WalletType.PRIMARY
                for link in view.links
            ):
                wallet_id = view.wallet.id
    return SubscriptionInput(
        offer=form.get("offer", ""),
        level=level,
        entity_id=entity_id,
        wallet_id=wallet_id,
        start_at=f.utc_datetime(form, "start_at"),
        end_at=f.utc_datetime(form, "end_at"),
    )


@router.post("/subscribers/{subscriber_id}/subscriptions")
def subscribe(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        if not form.get("offer"):
            raise DomainError(ProblemKind.MISSING_FIELD, "choose an offer", "offer")
        inp = _subscription_input(page, subscriber_id, form)
        page.services.offers.subscribe(page.acting(form), inp)
    except DomainError as exc:
        state = page.refused(exc, form, SUBSCRIBE_FIELDS, {"entity_id": "level"})
        return render_subscriptions(page, subscriber_id, {"subscribe": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/subscriptions", notice="created")


def _visible_subscription(page: Page, subscriber_id: int, subscription_id: int) -> Subscription:
    for row in page.services.offers.subscriptions_of_subscriber(page.operator, subscriber_id):
        if row.id == subscription_id:
            return row
    raise not_found("subscription", subscription_id)


@router.post("/subscribers/{subscriber_id}/subscriptions/{subscription_id}/end")
def end_subscription(
    subscriber_id: int,
    subscription_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    visible_subscriber(page, subscriber_id)
    _visible_subscription(page, subscriber_id, subscription_id)
    try:
        end_at: datetime | None = f.utc_datetime(form, "end_at")
        page.services.offers.end_subscription(page.acting(form), subscription_id, end_at)
    except DomainError as exc:
        state = page.refused(exc, form, END_FIELDS)
        forms = {f"end-{subscription_id}": state}
        return render_subscriptions(page, subscriber_id, forms, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/subscriptions", notice="saved")
