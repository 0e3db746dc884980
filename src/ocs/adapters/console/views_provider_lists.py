"""The service provider's F&F black list, F&D black list and F&D prefix map (seed 003): one
page with the three lists; each Add, Delete or mapping Save is stored at once through the
service, which checks and audits it."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError, not_found
from ocs.core.friends import BLACKLIST_ENTRIES_MAX, PREFIX_MAP_ENTRIES_MAX, BlacklistKind

from .forms import FormState
from .page import Form, Page, operator_page, posted_form

router = APIRouter()

LIST_TITLES = {
    BlacklistKind.FF_NUMBERS: "Friends and Family black list",
    BlacklistKind.FD_PREFIXES: "Friends and Destination black list",
}
MAPPING_FIELDS = ("prefix", "announcement_set", "announcement_entry")
EMPTY = FormState()


def _kind(value: str) -> BlacklistKind:
    try:
        return BlacklistKind(value)
    except ValueError:
        raise not_found("list", value) from None


def render_lists(
    page: Page, forms: Mapping[str, FormState] | None = None, status_code: int = 200
) -> Response:
    provider = page.require_provider()
    service = page.services.features.provider_lists
    lists = [
        (kind, LIST_TITLES[kind], service.get_blacklist(page.operator, kind, provider))
        for kind in BlacklistKind
    ]
    states = {
        **{f"add-{k.value}": EMPTY for k in BlacklistKind},
        "remove": EMPTY,
        "mapping": EMPTY,
        **(forms or {}),
    }
    edit = page.request.query_params.get("prefix", "")
    prefix_map = service.get_prefix_map(page.operator, provider)
    editing = next((e for e in prefix_map if e.prefix == edit), None)
    return page.render(
        "lists/lists.html",
        status_code=status_code,
        title="F&F and F&D lists",
        section="lists",
        provider=provider,
        lists=lists,
        prefix_map=prefix_map,
        editing=editing,
        forms=states,
        list_max=BLACKLIST_ENTRIES_MAX,
        map_max=PREFIX_MAP_ENTRIES_MAX,
    )


@router.get("/lists")
def lists(page: Page = Depends(operator_page)) -> Response:
    return render_lists(page)


@router.post("/lists/{kind}")
def list_add(
    kind: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    which = _kind(kind)
    service = page.services.features.provider_lists
    try:
        number = form.get("number", "")
        service.add_to_blacklist(page.acting(form), which, page.require_provider(), number)
    except DomainError as exc:
        state = page.refused(exc, form, ("number",), {"numbers": "number"})
        return render_lists(page, {f"add-{which.value}": state}, state.status)
    return page.redirect("/lists", notice="saved")


@router.post("/lists/{kind}/delete")
def list_delete(
    kind: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    which = _kind(kind)
    service = page.services.features.provider_lists
    number = form.get("number", "")
    try:
        service.remove_from_blacklist(page.acting(form), which, page.require_provider(), number)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_lists(page, {"remove": state}, state.status)
    return page.redirect("/lists", notice="saved")


@router.post("/fd-prefix-map")
def mapping_save(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.provider_lists
    try:
        service.put_prefix_mapping(
            page.acting(form),
            page.require_provider(),
            form.get("prefix", "").strip(),
            form.get("announcement_set", ""),
            form.get("announcement_entry", ""),
        )
    except DomainError as exc:
        state = page.refused(exc, form, MAPPING_FIELDS)
        return render_lists(page, {"mapping": state}, state.status)
    return page.redirect("/lists", notice="saved")


@router.post("/fd-prefix-map/delete")
def mapping_delete(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.provider_lists
    try:
        service.delete_prefix_mapping(
            page.acting(form), page.require_provider(), form.get("prefix", "")
        )
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_lists(page, {"remove": state}, state.status)
    return page.redirect("/lists", notice="deleted")
