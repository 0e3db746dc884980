"""The subscriber's EDRs option: the EDR viewer (filters, sort by column, pages), an EDR's
details with Reverse charge, and the usage chart (units per day by charging class)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.edr import EDR_PAGE_ROWS_MAX, Edr, EdrPage, EdrQuery, EdrSort, EdrType, UnitClass
from ocs.core.errors import DomainError, not_found
from ocs.core.security import Privilege
from ocs.core.wallets import WalletType, parse_enum

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_wallets import visible_subscriber

router = APIRouter()

FILTER_FIELDS = (
    "wallet_type",
    "start",
    "end",
    "category",
    "called_number",
    "tag",
    "tag_value",
    "unit_type",
    "max_results",
    "page_size",
)
# Service fields named differently in the filter form.
FILTER_ALIASES = {"wallet_types": "wallet_type", "types": "category", "unit_class": "unit_type"}
SORT_COLUMNS: tuple[tuple[EdrSort, str], ...] = (
    (EdrSort.DATE, "Date"),
    (EdrSort.TYPE, "Type"),
    (EdrSort.BALANCE_TYPE, "Balance type"),
    (EdrSort.COST, "Cost"),
)
PAGE_ROWS = 50
UNCLASSIFIED = "unclassified"
DAY_S = 86_400


@dataclass(frozen=True)
class EdrFilters:
    """The viewer's filter form as entered (query parameters), several values per name."""

    values: Mapping[str, list[str]]

    def one(self, name: str) -> str:
        found = self.values.get(name, [])
        return found[0] if found else ""

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def form(self) -> dict[str, str]:
        return {name: self.one(name) for name in self.values}

    def link(self, **changes: object) -> str:
        """The query string of this search with some parameters replaced."""
        pairs = [(k, v) for k, vs in self.values.items() if k not in changes for v in vs]
        pairs += [(k, str(v)) for k, v in changes.items() if v is not None]
        return urlencode(pairs)


def _query(subscriber_id: int, filters: EdrFilters) -> EdrQuery:
    form = filters.form()
    wallet_types = filters.all("wallet_type") or [t.value for t in WalletType]
    return EdrQuery(
        subscriber_id=subscriber_id,
        wallet_types=frozenset(parse_enum(WalletType, t, "wallet_type") for t in wallet_types),
        start=f.utc_datetime(form, "start"),
        end=f.utc_datetime(form, "end"),
        types=frozenset(parse_enum(EdrType, t, "category") for t in filters.all("category")),
        called_number=f.text(form, "called_number"),
        tag=f.text(form, "tag"),
        tag_value=f.text(form, "tag_value"),
        include_partial=filters.one("include_partial") == "on",
        unit_class=parse_enum(UnitClass, filters.one("unit_type") or "CASH", "unit_type"),
        sort=parse_enum(EdrSort, filters.one("sort") or "DATE", "sort"),
        reverse=filters.one("reverse") == "1",
        max_results=f.integer(form, "max_results"),
        offset=f.integer(form, "offset") or 0,
        page_size=f.integer(form, "page_size") or PAGE_ROWS,
    )


def usage_series(page: Page, subscriber_id: int) -> dict[str, list[list[int]]]:
    """Per charging class, [[day (unix seconds, UTC midnight)...], [units...]] over the days
    of the subscriber's latest CHARGE EDRs (and one either side): the usage chart's series."""
    query = EdrQuery(
        subscriber_id=subscriber_id,
        types=frozenset({EdrType.CHARGE}),
        include_partial=True,
        page_size=EDR_PAGE_ROWS_MAX,
    )
    by_class: dict[str, dict[int, int]] = {}
    for hit in page.services.edrs.search(page.operator, query).items:
        charging_class, units = usage_of(hit.edr)
        day = int(hit.edr.at.timestamp()) // DAY_S * DAY_S
        days = by_class.setdefault(charging_class, {})
        days[day] = days.get(day, 0) + units
    if not by_class:
        return {}
    first = min(min(days) for days in by_class.values())
    last = max(max(days) for days in by_class.values())
    # An empty day either side keeps a lone day's bar readable.
    axis = list(range(first - DAY_S, last + 2 * DAY_S, DAY_S))
    return {c: [axis, [days.get(d, 0) for d in axis]] for c, days in sorted(by_class.items())}


def usage_of(edr: Edr) -> tuple[str, int]:
    """The charging class and rated units of a CHARGE EDR; a direct debit names its class in
    a tag (else it is unclassified) and counts its duration, else one event."""
    tags = dict(edr.tags)
    charging_class = edr.detail.get("charging_class") or tags.get("charging_class")
    units = edr.detail.get("units")
    if not isinstance(units, int):
        units = edr.duration_s if edr.duration_s is not None else 1
    return (str(charging_class) if charging_class else UNCLASSIFIED), units


@router.get("/subscribers/{subscriber_id}/edrs")
def edr_viewer(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    params = page.request.query_params
    filters = EdrFilters({k: params.getlist(k) for k in params})
    state = FormState(filters.form())
    found: EdrPage | None = None
    previous_offset: int | None = None
    try:
        query = _query(subscriber_id, filters)
        found = page.services.edrs.search(page.operator, query)
        if query.offset > 0:
            previous_offset = max(query.offset - query.page_size, 0)
    except DomainError as exc:
        state = page.refused(exc, filters.form(), FILTER_FIELDS, FILTER_ALIASES)
    sort = filters.one("sort") or EdrSort.DATE.value
    return page.render(
        "subscribers/edrs.html",
        status_code=state.status,
        title=f"Subscriber {subscriber.subscriber_id} · EDRs",
        section="subscribers",
        option="edrs",
        subscriber=subscriber,
        filters=filters,
        form=state,
        found=found,
        previous_offset=previous_offset,
        sort=sort,
        reverse=filters.one("reverse") == "1",
        sort_columns=SORT_COLUMNS,
        wallet_types=[(t.value, t.value.capitalize()) for t in WalletType],
        categories=[(t.value, t.value) for t in EdrType],
        unit_types=[(u.value, u.value.capitalize()) for u in UnitClass],
        usage=usage_series(page, subscriber_id),
    )


def _render_edr(
    page: Page, subscriber_id: int, edr_id: int, refused: FormState | None = None
) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    edr = page.services.edrs.get(page.operator, edr_id)
    wallets = page.services.wallets.subscriber_wallets(page.operator, subscriber_id)
    if edr.wallet_id not in {view.wallet.id for view in wallets}:
        raise not_found("EDR", edr_id)
    return page.render(
        "subscribers/edr.html",
        status_code=200 if refused is None else refused.status,
        title=f"EDR {edr.id}",
        section="subscribers",
        option="edrs",
        subscriber=subscriber,
        edr=edr,
        reversible=edr.type is EdrType.CHARGE and page.can(Privilege.EXECUTE),
        general=[] if refused is None else refused.general,
    )


@router.get("/subscribers/{subscriber_id}/edrs/{edr_id}")
def edr_detail(subscriber_id: int, edr_id: int, page: Page = Depends(operator_page)) -> Response:
    return _render_edr(page, subscriber_id, edr_id)


@router.post("/subscribers/{subscriber_id}/edrs/{edr_id}/reverse")
def edr_reverse(
    subscriber_id: int,
    edr_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    visible_subscriber(page, subscriber_id)
    try:
        reversal = page.services.edrs.reverse_charge(page.acting(form), edr_id)
    except DomainError as exc:
        return _render_edr(page, subscriber_id, edr_id, page.refused(exc, form))
    return page.redirect(f"/subscribers/{subscriber_id}/edrs/{reversal.id}", notice="reversed")
