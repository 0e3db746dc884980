"""Integration configuration screens, generated from the entity specs (one set for every kind)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.configuration import SPECS, ConfigKind, EntitySpec, FieldSpec, FieldType, Record
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege

from .forms import FormState, config_payload
from .page import Form, Page, operator_page, posted_form

router = APIRouter(prefix="/config")

KindGroups = tuple[tuple[str, tuple[ConfigKind, ...]], ...]
LISTED_GROUPS: KindGroups = (
    ("Organisation", (ConfigKind.SERVICE_PROVIDER, ConfigKind.CURRENCY)),
    (
        "Customers, accounts and subscribers",
        (
            ConfigKind.ACCOUNT_TYPE,
            ConfigKind.RESOURCE_TYPE,
            ConfigKind.STATE_REASON,
            ConfigKind.CUSTOMER_SEGMENT,
            ConfigKind.ACCOUNT_SEGMENT,
            ConfigKind.SUBSCRIBER_SEGMENT,
            ConfigKind.CUSTOMER_PROFILE,
            ConfigKind.ACCOUNT_PROFILE,
            ConfigKind.SUBSCRIBER_PROFILE,
            ConfigKind.BILLING_CYCLE,
        ),
    ),
    (
        "Rating",
        (
            ConfigKind.CHARGING_CLASS,
            ConfigKind.TIME_BAND,
            ConfigKind.TARIFF_PLAN,
            ConfigKind.TARIFF_RATE,
            ConfigKind.RATING_GROUP,
        ),
    ),
    (
        "Balances and products",
        (ConfigKind.BALANCE_TYPE, ConfigKind.BALANCE_TYPE_CLASS, ConfigKind.PRODUCT_TYPE),
    ),
)


def _with_unlisted(groups: KindGroups) -> KindGroups:
    """The groups, plus a last one for any kind not placed in a group yet."""
    listed = {kind for _, kinds in groups for kind in kinds}
    rest = tuple(kind for kind in ConfigKind if kind not in listed)
    return (*groups, ("More", rest)) if rest else groups


CONFIG_GROUPS = _with_unlisted(LISTED_GROUPS)

Option = tuple[str, str]


def plural_label(kind: ConfigKind) -> str:
    return kind.value.replace("-", " ").capitalize()


def field_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def option_label(record: Record) -> str:
    """'CODE - Name', with the state for state reasons so the right one is easy to pick."""
    label = f"{record['code']} - {record['name']}"
    return f"{label} ({record['state']})" if "state" in record else label


@dataclass(frozen=True)
class FieldView:
    spec: FieldSpec
    label: str
    widget: str
    options: tuple[Option, ...] = ()


def _widget(spec: FieldSpec) -> str:
    if spec.type is FieldType.BOOL:
        return "checkbox"
    if spec.type is FieldType.INT:
        return "number"
    if spec.type in (FieldType.ENUM, FieldType.REF):
        return "select"
    return "textarea" if spec.name == "description" else "text"


def _options(page: Page, spec: FieldSpec, own_code: str | None) -> tuple[Option, ...]:
    if spec.type is FieldType.ENUM:
        return tuple((c, c) for c in spec.choices)
    if spec.ref is None:
        return ()
    records = page.services.configuration.list_records(page.operator, spec.ref)
    return tuple((str(r["code"]), option_label(r)) for r in records if r["code"] != own_code)


def field_views(page: Page, spec: EntitySpec, own_code: str | None = None) -> list[FieldView]:
    return [
        FieldView(f, field_label(f.name), _widget(f), _options(page, f, own_code))
        for f in spec.fields
    ]


def record_values(record: Record) -> dict[str, str]:
    """A stored record as form values (a checked box is present, an unchecked one absent)."""
    values: dict[str, str] = {}
    for name, value in record.items():
        if value is True:
            values[name] = "on"
        elif value is not None and value is not False:
            values[name] = str(value)
    return values


def _defaults(page: Page, spec: EntitySpec) -> dict[str, str]:
    """A new record's form: each field's default, and the current service provider."""
    values = {f.name: str(f.default) for f in spec.fields if isinstance(f.default, str)}
    values.update({f.name: "on" for f in spec.fields if f.default is True})
    if "service_provider" in spec.field_by_name and page.provider:
        values["service_provider"] = page.provider
    return values


def _kind(value: str) -> ConfigKind:
    try:
        return ConfigKind(value)
    except ValueError:
        raise DomainError(ProblemKind.NOT_FOUND, f"no configuration kind {value!r}") from None


def _in_provider(page: Page, record: Record) -> bool:
    """Records that belong to a service provider are shown inside that provider only."""
    return "service_provider" not in record or record["service_provider"] == page.provider


@router.get("")
def config_index(page: Page = Depends(operator_page)) -> Response:
    counts = {
        kind: sum(
            _in_provider(page, r)
            for r in page.services.configuration.list_records(page.operator, kind)
        )
        for kind in ConfigKind
    }
    return page.render(
        "config/index.html",
        title="Configuration",
        section="config",
        groups=CONFIG_GROUPS,
        counts=counts,
        specs=SPECS,
        plural_label=plural_label,
    )


@router.get("/{kind_value}")
def config_list(kind_value: str, page: Page = Depends(operator_page)) -> Response:
    kind = _kind(kind_value)
    spec = SPECS[kind]
    records = [
        r
        for r in page.services.configuration.list_records(page.operator, kind)
        if _in_provider(page, r)
    ]
    columns = [f for f in spec.fields if f.name != "description"]
    return page.render(
        "config/list.html",
        title=plural_label(kind),
        section="config",
        kind=kind,
        spec=spec,
        columns=columns,
        records=records,
        field_label=field_label,
        can_create=page.can_create(kind),
    )


def _form_page(
    page: Page,
    kind: ConfigKind,
    form: FormState,
    code: str | None,
    status_code: int = 200,
) -> Response:
    spec = SPECS[kind]
    editable = page.can(Privilege.MODIFY) if code else page.can_create(kind)
    title = f"{spec.label} {code}" if code else f"New {spec.label.lower()}"
    return page.render(
        "config/form.html",
        status_code=status_code,
        title=title,
        section="config",
        kind=kind,
        spec=spec,
        code=code,
        fields=field_views(page, spec, code),
        form=form,
        editable=editable,
        can_delete=code is not None and page.can_create(kind),
        list_label=plural_label(kind),
    )


@router.get("/{kind_value}/new")
def config_new(kind_value: str, page: Page = Depends(operator_page)) -> Response:
    kind = _kind(kind_value)
    return _form_page(page, kind, FormState(_defaults(page, SPECS[kind])), None)


@router.post("/{kind_value}/new")
def config_create(
    kind_value: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    kind = _kind(kind_value)
    spec = SPECS[kind]
    try:
        payload = config_payload(spec, form, with_code=True)
        record = page.services.configuration.create(page.acting(form), kind, payload)
    except DomainError as exc:
        state = page.refused(exc, form, spec.field_by_name)
        return _form_page(page, kind, state, None, status_code=state.status)
    return page.redirect(f"/config/{kind.value}/{record['code']}", notice="created")


@router.get("/{kind_value}/{code}")
def config_edit(kind_value: str, code: str, page: Page = Depends(operator_page)) -> Response:
    kind = _kind(kind_value)
    record = page.services.configuration.get(page.operator, kind, code)
    if not _in_provider(page, record):
        raise not_found(SPECS[kind].label, code)
    return _form_page(page, kind, FormState(record_values(record)), code)


@router.post("/{kind_value}/{code}")
def config_update(
    kind_value: str,
    code: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    kind = _kind(kind_value)
    spec = SPECS[kind]
    try:
        payload = config_payload(spec, form, with_code=False)
        page.services.configuration.update(page.acting(form), kind, code, payload)
    except DomainError as exc:
        state = page.refused(exc, {**form, "code": code}, spec.field_by_name)
        return _form_page(page, kind, state, code, status_code=state.status)
    return page.redirect(f"/config/{kind.value}/{code}", notice="saved")


@router.post("/{kind_value}/{code}/delete")
def config_delete(
    kind_value: str,
    code: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    kind = _kind(kind_value)
    try:
        page.services.configuration.delete(page.acting(form), kind, code)
    except DomainError as exc:
        current = page.services.configuration.get(page.operator, kind, code)
        state = page.refused(exc, record_values(current))
        return _form_page(page, kind, state, code, status_code=state.status)
    return page.redirect(f"/config/{kind.value}", notice="deleted")
