"""Wallet migrations between charging domains (seed 003 "UBE Account Balancing"): the list with
the manual's row colours, Refresh groups and buttons, the New/Edit form with its per-state field
rules, a confirmation step before saving, Check Accounts, the report and the remaining
subscribers file.

Every rule comes from ocs.core.migrations (which buttons a state enables, which fields a state
lets change); this module only turns forms into the service's input and the answers into pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import UploadFile

from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, invalid, not_found
from ocs.core.migrations import (
    FIELD_EDIT_STATES,
    ROW_COLOURS,
    STATE_LABELS,
    WALLET_STATE_LETTERS,
    Migration,
    MigrationAction,
    MigrationFields,
    MigrationState,
    RefreshGroup,
    SelectionKind,
    allowed_actions,
    changed_fields,
    check_editable,
    field_editable,
    fields_from,
    parse_changes,
    validate_fields,
    wallet_state_letters,
)
from ocs.core.security import Privilege
from ocs.core.wallets import WalletState
from ocs.service.migrations import RESTARTED_BY_SAVE as RESTARTED_STATES

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_customers import config_options

router = APIRouter()

# The form's fields, in the order errors are looked for; the file field shows input errors.
FORM_FIELDS = (
    "source_domain",
    "target_domain",
    "selection",
    "range_start",
    "range_end",
    "account_batch_id",
    "input_file",
    "product_type",
    "wallet_states",
    "batch_id",
    "max_wallets",
    "throttle_per_s",
    "remaining_filename",
    "state",
)
ALIASES = {"input_numbers": "input_file", "input_filename": "input_file"}
TEXT_FIELDS = (
    "source_domain",
    "target_domain",
    "selection",
    "range_start",
    "range_end",
    "account_batch_id",
    "product_type",
    "batch_id",
    "max_wallets",
    "throttle_per_s",
    "remaining_filename",
)
SELECTIONS: tuple[Option, ...] = (
    (SelectionKind.RANGE.value, "Subscriber range"),
    (SelectionKind.BATCH.value, "Account batch"),
    (SelectionKind.INPUT_FILE.value, "Input file"),
    (SelectionKind.PRODUCT_TYPE.value, "Product type"),
)
WALLET_STATE_FIELD = "ws_"  # one check box per wallet state: ws_ACTIVE, ws_DORMANT, ...
WALLET_STATE_BOXES: tuple[Option, ...] = tuple(
    (f"{WALLET_STATE_FIELD}{s.value}", f"{s.value.replace('_', '-').capitalize()} ({letter})")
    for s, letter in WALLET_STATE_LETTERS.items()
)
GROUP_LABELS: tuple[tuple[RefreshGroup, str], ...] = (
    (RefreshGroup.COMPLETE, "Complete"),
    (RefreshGroup.RUNNING, "Running"),
    (RefreshGroup.PENDING, "Pending"),
)
# The list polls itself while a migration runs or waits for the runner to start it.
POLLING_STATES = frozenset(
    {MigrationState.RUNNING, MigrationState.PENDING, MigrationState.PRIORITY}
)
POLL_S = 2
# The manual's highlight of the selected migration: dark blue, here with white text (black
# would not read on it); the other rows keep their state colours.
SELECTED_ROW_COLOUR = "#0b3d91"
# An uploaded input file travels in the confirmation page, so it is bounded; the REST API and
# the CLI take bigger files.
INPUT_FILE_BYTES_MAX = 8 * 1024 * 1024
BUTTON_PRIVILEGES: dict[MigrationAction, Privilege] = {
    MigrationAction.PRIORITY: Privilege.MODIFY,
    MigrationAction.RESTART: Privilege.MODIFY,
    MigrationAction.PAUSE: Privilege.EXECUTE,
    MigrationAction.HOLD: Privilege.MODIFY,
    MigrationAction.CANCEL: Privilege.MODIFY,
    MigrationAction.REPORT: Privilege.READ,
    MigrationAction.SAVE: Privilege.MODIFY,
    MigrationAction.DELETE: Privilege.CREATE_DELETE,
}
STATE_BUTTONS = (
    MigrationAction.PRIORITY,
    MigrationAction.RESTART,
    MigrationAction.PAUSE,
    MigrationAction.HOLD,
    MigrationAction.CANCEL,
)


@dataclass(frozen=True)
class Button:
    action: MigrationAction
    label: str
    enabled: bool


@dataclass(frozen=True)
class Row:
    migration: Migration
    css: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class InputUpload:
    filename: str
    text: str


# -- list ---------------------------------------------------------------------------------------


def _buttons(page: Page, m: Migration) -> tuple[Button, ...]:
    """The row's buttons, each enabled exactly as the core rules say (and the operator may)."""
    allowed = allowed_actions(m.state, m.report is not None)

    def button(action: MigrationAction, label: str) -> Button:
        return Button(action, label, action in allowed and page.can(BUTTON_PRIVILEGES[action]))

    # In S the Pause button turns into Hold.
    pause = (
        button(MigrationAction.HOLD, "Hold")
        if m.state is MigrationState.PAUSED
        else button(MigrationAction.PAUSE, "Pause")
    )
    return (
        button(MigrationAction.PRIORITY, "Priority"),
        button(MigrationAction.RESTART, "Restart"),
        pause,
        button(MigrationAction.CANCEL, "Cancel"),
        button(MigrationAction.REPORT, "Report"),
        button(MigrationAction.SAVE, "Edit"),
        button(MigrationAction.DELETE, "Delete"),
    )


def may_change(page: Page) -> bool:
    """Read-only operators see no buttons at all."""
    return any(page.can(p) for p in (Privilege.MODIFY, Privilege.EXECUTE, Privilege.CREATE_DELETE))


def _own(page: Page, migrations: Iterable[Migration]) -> list[Migration]:
    provider = page.provider
    return [m for m in migrations if m.fields.service_provider == provider]


@router.get("/migrations")
def migration_list(
    page: Page = Depends(operator_page),
    group: list[str] = Query(default=[]),
    refresh: str = "",
) -> Response:
    page.require_provider()
    # Without a Refresh the list shows every group, as if all three boxes were ticked.
    chosen = [g for g, _ in GROUP_LABELS if g.value in group] if refresh else list(RefreshGroup)
    migrations = _own(page, page.services.migrations.search(page.operator, chosen))
    rows = [
        Row(m, f"mig-row mig-{m.state.value}", _buttons(page, m) if may_change(page) else ())
        for m in migrations
    ]
    query = [("refresh", "1"), *(("group", g.value) for g in chosen)]
    context: dict[str, Any] = {
        "rows": rows,
        "chosen": {g.value for g in chosen},
        "groups": GROUP_LABELS,
        "query": "&".join(f"{k}={v}" for k, v in query),
        "polling": any(m.state in POLLING_STATES for m in migrations),
        "poll_s": POLL_S,
        "buttons_shown": may_change(page),
        "labels": STATE_LABELS,
    }
    if page.htmx:
        return page.render("migrations/table.html", **context)
    return page.render(
        "migrations/list.html", title="Account balancing", section="migrations", **context
    )


@router.get("/migrations/colours.css")
def row_colours() -> Response:
    """The manual's row colour per state, from the core table (the page's CSP allows no inline
    styles); the table text stays black in every state. The selected row's highlight comes
    last and is more specific, so it wins over its state's colour."""
    lines = [f".mig-{state.value} > td {{ background: {colour}; color: #000; }}"
             for state, colour in ROW_COLOURS.items()]  # fmt: skip
    lines.append(
        f".mig-table tr.mig-selected > td {{ background: {SELECTED_ROW_COLOUR}; color: #fff; }}"
    )
    return PlainTextResponse(
        "\n".join(lines) + "\n", media_type="text/css", headers={"Cache-Control": "no-cache"}
    )


# -- form values -> service input ---------------------------------------------------------------


async def input_upload(request: Request, form: Form = Depends(posted_form)) -> InputUpload | None:
    """The input file of a multipart form (read once the CSRF token has been checked)."""
    posted = await request.form()
    upload = posted.get("input_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(INPUT_FILE_BYTES_MAX + 1)
    if len(content) > INPUT_FILE_BYTES_MAX:
        raise invalid(
            "input_file",
            f"the input file must be at most {INPUT_FILE_BYTES_MAX:,} bytes here "
            "(the REST API and the CLI take bigger ones)",
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("input_file", "the input file must be plain text (UTF-8)") from None
    return InputUpload(Path(upload.filename).name, text)


def _plain(form: Form, upload: InputUpload | None, names: Iterable[str]) -> dict[str, object]:
    """The posted fields as the plain values core.parse_changes reads; empty means not given."""
    data: dict[str, object] = {}
    for name in names:
        if name == "wallet_states":
            data[name] = [s.value for s in WalletState if f"{WALLET_STATE_FIELD}{s.value}" in form]
        elif name == "input_numbers":
            # A fresh upload, else the file's text carried over by the confirmation page.
            text = upload.text if upload else form.get("input_numbers", "")
            data["input_numbers"] = text
            filename = upload.filename if upload else form.get("input_filename", "").strip()
            data["input_filename"] = filename or None
        elif name in TEXT_FIELDS:
            value = form.get(name, "").strip()
            data[name] = value or None
    return data


def new_fields(page: Page, form: Form, upload: InputUpload | None) -> MigrationFields:
    data = _plain(form, upload, (*TEXT_FIELDS, "wallet_states", "input_numbers"))
    if data.get("selection") != SelectionKind.INPUT_FILE.value:
        data.pop("input_numbers")
        data.pop("input_filename")
    data["service_provider"] = page.require_provider()
    fields = fields_from(data)
    _check_domains(page, fields)
    return validate_fields(fields)


def editable_names(m: Migration) -> list[str]:
    return [n for n in FIELD_EDIT_STATES if field_editable(n, m.state, m.first_selection)]


def edit_changes(m: Migration, form: Form) -> dict[str, object]:
    """The changed fields among those the migration's state lets change."""
    posted = parse_changes(_plain(form, None, editable_names(m)))
    edited = replace(m.fields, **posted)  # type: ignore[arg-type]
    return {name: getattr(edited, name) for name in changed_fields(m.fields, edited)}


def edited_fields(page: Page, m: Migration, changes: Mapping[str, object]) -> MigrationFields:
    """The whole record as the edit would save it, checked as the service will check it."""
    edited = replace(m.fields, **changes)  # type: ignore[arg-type]
    check_editable(changes, m.state, m.first_selection)
    _check_domains(page, edited)
    return validate_fields(edited)


def _check_domains(page: Page, fields: MigrationFields) -> None:
    _check_domain_names(
        page, {name: getattr(fields, name) for name in ("source_domain", "target_domain")}
    )


def _check_domain_names(page: Page, chosen: Mapping[str, str]) -> None:
    """Each domain field names a configured domain (an empty one was not chosen yet)."""
    names = page.services.domains.names()
    for name, domain in chosen.items():
        if domain not in names:
            raise invalid(name, f"choose one of the configured domains: {', '.join(names)}")


def form_values(m: Migration) -> dict[str, str]:
    """A saved migration as the form's values."""
    f = m.fields
    values = {
        name: "" if getattr(f, name) is None else str(getattr(f, name))
        for name in TEXT_FIELDS
        if name != "selection"
    }
    values["selection"] = f.selection.value
    values.update({f"{WALLET_STATE_FIELD}{s.value}": "on" for s in f.wallet_states})
    return values


def refill(m: Migration, form: Form) -> dict[str, str]:
    """The edit form after a refusal: what was posted over the saved values (not the wallet
    state boxes when they were editable: an unticked box posts nothing)."""
    saved = form_values(m)
    if "wallet_states" in editable_names(m):
        saved = {k: v for k, v in saved.items() if not k.startswith(WALLET_STATE_FIELD)}
    return {**saved, **form}


def carried(form: Form, upload: InputUpload | None) -> dict[str, str]:
    """The posted values the confirmation page sends again (not the token or reason)."""
    values = {k: v for k, v in form.items() if k not in ("csrf_token", "change_reason")}
    if upload is not None:
        values["input_filename"] = upload.filename
        values["input_numbers"] = upload.text
    return values


# -- pages --------------------------------------------------------------------------------------


def _migration(page: Page, migration_id: int) -> Migration:
    m = page.services.migrations.get(page.operator, migration_id)
    if m.fields.service_provider != page.provider:
        raise not_found("migration", migration_id)
    return m


def render_form(
    page: Page, form: FormState, m: Migration | None = None, status_code: int = 200
) -> Response:
    """The New or Edit Migration screen; in Edit, fields the state keeps are read-only."""
    if m is None:
        editable = set(FORM_FIELDS) | {"input_file"}
        title = "New migration"
    else:
        may_save = page.can(Privilege.MODIFY) and MigrationAction.SAVE in allowed_actions(
            m.state, m.report is not None
        )
        editable = set(editable_names(m)) if may_save else set()
        title = f"Migration {m.id}"
    return page.render(
        "migrations/form.html",
        status_code=status_code,
        title=title,
        section="migrations",
        form=form,
        migration=m,
        editable=editable,
        domains=[(d, d) for d in page.services.domains.names()],
        selections=SELECTIONS,
        product_types=config_options(page, ConfigKind.PRODUCT_TYPE),
        wallet_states=WALLET_STATE_BOXES,
        labels=STATE_LABELS,
        restarts=m is not None and m.state in RESTARTED_STATES,
    )


@router.get("/migrations/new")
def migration_new(page: Page = Depends(operator_page)) -> Response:
    page.require_provider()
    all_states = {f"{WALLET_STATE_FIELD}{s.value}": "on" for s in WalletState}
    defaults = {"source_domain": "default", "selection": SelectionKind.RANGE.value, **all_states}
    return render_form(page, FormState(defaults))


def _render_confirm(
    page: Page,
    action: str,
    fields: MigrationFields,
    values: Mapping[str, str],
    m: Migration | None = None,
    changes: Mapping[str, object] | None = None,
) -> Response:
    return page.render(
        "migrations/confirm.html",
        title="Confirm the migration" if m is None else f"Confirm migration {m.id}",
        section="migrations",
        action=action,
        fields=fields,
        values=values,
        migration=m,
        changes=sorted((changes or {}).items()),
        letters=wallet_state_letters(fields.wallet_states),
        restarts=m is not None and m.state in RESTARTED_STATES,
    )


@router.post("/migrations/new/review")
def migration_review_new(
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
    upload: InputUpload | None = Depends(input_upload),
) -> Response:
    """The confirmation step: the details as they will be saved; nothing is saved yet."""
    try:
        fields = new_fields(page, form, upload)
    except DomainError as exc:
        state = page.refused(exc, form, FORM_FIELDS, ALIASES)
        return render_form(page, state, status_code=state.status)
    return _render_confirm(page, "/migrations/new", fields, carried(form, upload))


@router.post("/migrations/new")
def migration_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        fields = new_fields(page, form, None)
        created = page.services.migrations.create(page.acting(form), fields)
    except DomainError as exc:
        state = page.refused(exc, form, FORM_FIELDS, ALIASES)
        return render_form(page, state, status_code=state.status)
    return page.redirect("/migrations", notice="created", created=created.id)


@router.get("/migrations/check-accounts")
def check_accounts(
    page: Page = Depends(operator_page), source_domain: str = "", target_domain: str = ""
) -> Response:
    """The Accounts Summary: wallets per state and subscribers per product type, both domains
    side by side (a dialog over the form, or a page of its own without scripts). A refusal
    names the domain field it is about, shown with the value that was checked."""
    checked = {"source_domain": source_domain, "target_domain": target_domain}
    try:
        _check_domain_names(page, checked)
        summary = page.services.migrations.check_accounts(
            page.operator, source_domain, target_domain
        )
    except DomainError as exc:
        state = page.refused(exc, checked, tuple(checked))
        summary = None
    else:
        state = FormState(checked)
    context: dict[str, Any] = {
        "summary": summary,
        "general": state.general,
        "form": state,
        "domain_fields": (("source_domain", "Source domain"), ("target_domain", "Target domain")),
    }
    if page.htmx:
        return page.render("migrations/accounts.html", **context)
    return page.render(
        "migrations/accounts_page.html", title="Accounts summary", section="migrations", **context
    )


@router.get("/migrations/{migration_id}")
def migration_edit(migration_id: int, page: Page = Depends(operator_page)) -> Response:
    m = _migration(page, migration_id)
    return render_form(page, FormState(form_values(m)), m)


@router.post("/migrations/{migration_id}/review")
def migration_review_edit(
    migration_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    m = _migration(page, migration_id)
    try:
        changes = edit_changes(m, form)
        fields = edited_fields(page, m, changes)
    except DomainError as exc:
        state = page.refused(exc, refill(m, form), FORM_FIELDS, ALIASES)
        return render_form(page, state, m, state.status)
    return _render_confirm(page, f"/migrations/{m.id}", fields, carried(form, None), m, changes)


@router.post("/migrations/{migration_id}")
def migration_save(
    migration_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    m = _migration(page, migration_id)
    try:
        changes = edit_changes(m, form)
        page.services.migrations.update(page.acting(form), migration_id, changes)
    except DomainError as exc:
        state = page.refused(exc, refill(m, form), FORM_FIELDS, ALIASES)
        return render_form(page, state, m, state.status)
    return page.redirect("/migrations", notice="saved")


@router.post("/migrations/{migration_id}/delete")
def migration_delete(
    migration_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _migration(page, migration_id)
    page.services.migrations.delete(page.acting(form), migration_id)
    return page.redirect("/migrations", notice="deleted")


@router.post("/migrations/{migration_id}/buttons/{action}")
def migration_button(
    migration_id: int,
    action: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    """Priority, Restart, Pause, Hold or Cancel; a refusal shows on the error page."""
    _migration(page, migration_id)
    if action not in {a.value for a in STATE_BUTTONS}:
        raise not_found("migration button", action)
    page.services.migrations.act(page.acting(form), migration_id, MigrationAction(action))
    return page.redirect("/migrations", notice="state")


@router.get("/migrations/{migration_id}/report")
def migration_report(migration_id: int, page: Page = Depends(operator_page)) -> Response:
    m = _migration(page, migration_id)
    text = page.services.migrations.report(page.operator, migration_id)
    return page.render(
        "migrations/report.html",
        title=f"Report of migration {migration_id}",
        section="migrations",
        migration=m,
        report=text,
        remaining_name=_remaining_name(m),
    )


def _download(page: Page, text: str, filename: str) -> Response:
    safe = Path(filename).name.replace('"', "") or "download.txt"
    return page.finish(
        PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{safe}"'})
    )


@router.get("/migrations/{migration_id}/report.txt")
def migration_report_file(migration_id: int, page: Page = Depends(operator_page)) -> Response:
    _migration(page, migration_id)
    text = page.services.migrations.report(page.operator, migration_id)
    return _download(page, text, f"migration-{migration_id}-report.txt")


def _remaining_name(m: Migration) -> str:
    return m.fields.remaining_filename or f"migration-{m.id}-remaining.txt"


@router.get("/migrations/{migration_id}/remaining.txt")
def migration_remaining_file(migration_id: int, page: Page = Depends(operator_page)) -> Response:
    """Save remaining subscribers: the numbers not migrated, one per line (an input file)."""
    m = _migration(page, migration_id)
    numbers = page.services.migrations.remaining_subscribers(page.operator, migration_id)
    return _download(page, "".join(f"{n}\n" for n in numbers), _remaining_name(m))
