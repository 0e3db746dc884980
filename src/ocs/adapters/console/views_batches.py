"""Subscriber batches (seed 003 "Subscriber Batch"): search by subscriber ID prefix and state,
a new batch from an uploaded list file or typed ranges, the creation job with live progress,
the result file (downloaded once), a batch's page with its state edit and delete.

Creation takes the same path as the REST API: BatchService.prepare checks everything and
records the batch, then the REST adapter's BatchJobs runs BatchService.run in a background
thread while the job page polls its progress."""

from __future__ import annotations

import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import UploadFile

from ocs.adapters.batch_results import FileResultSink
from ocs.adapters.rest.routes_batches import LIST_TEXT_LENGTH_MAX, BatchJob, BatchJobs, JobState
from ocs.core.batches import EDIT_TRANSITIONS, SUBSCRIBERS_DELETABLE, Batch, BatchState
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.states import EntityState
from ocs.service.batches import MEMBERS_ROWS_MAX, BatchInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option, option_label
from .views_customers import config_options

router = APIRouter()

NEW_FIELDS = (
    "account_id",
    "batch_size",
    "list_file",
    "subscriber_list",
    "result_filename",
    "charging_domain",
    "product_type",
    "currency",
    "max_concurrent_accesses",
    "use_subscriber_id",
    "card_first",
    "card_last",
    "add_pins",
    "pin_length",
)
# The service names the list by its content; the form has two ways to give it.
NEW_ALIASES = {"list_filename": "list_file"}
EDIT_FIELDS = ("state", "state_reason")
STATES: tuple[Option, ...] = tuple((s.value, s.value) for s in BatchState)
JOB_POLL_S = 1
EMPTY = FormState()

_jobs_lock = threading.Lock()


@dataclass(frozen=True)
class ListUpload:
    """The uploaded subscriber list file, decoded."""

    filename: str
    text: str


def console_jobs(request: Request) -> BatchJobs:
    """The console's registry of creation jobs (the REST API's job runner, one per app)."""
    state = request.app.state
    with _jobs_lock:
        jobs = getattr(state, "batch_jobs", None)
        if jobs is None:
            jobs = BatchJobs(Path(tempfile.mkdtemp(prefix="ocs-console-batch-results-")))
            state.batch_jobs = jobs
    return jobs


async def list_upload(request: Request, form: Form = Depends(posted_form)) -> ListUpload | None:
    """The list file of a multipart form (read once the CSRF token has been checked)."""
    posted = await request.form()
    upload = posted.get("list_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(LIST_TEXT_LENGTH_MAX + 1)
    if len(content) > LIST_TEXT_LENGTH_MAX:
        raise invalid("list_file", f"the list file must be at most {LIST_TEXT_LENGTH_MAX:,} bytes")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("list_file", "the list file must be plain text (UTF-8)") from None
    return ListUpload(Path(upload.filename).name, text)


# -- search -------------------------------------------------------------------------------------


@router.get("/batches")
def batch_search(
    subscriber_prefix: str = "", state: str = "", page: Page = Depends(operator_page)
) -> Response:
    provider = page.require_provider()
    general: list[str] = []
    try:
        batches = page.services.batches.search(
            page.operator, subscriber_prefix, state or None, provider
        )
    except DomainError as exc:
        general = page.refused(exc, {}).general
        batches = []
    return page.render(
        "batches/list.html",
        title="Subscriber batches",
        section="batches",
        subscriber_prefix=subscriber_prefix,
        state=state,
        states=STATES,
        batches=batches,
        general=general,
        rows_max=100,
    )


# -- new batch and its job ------------------------------------------------------------------------


def _new_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "batches/new.html",
        status_code=status_code,
        title="New subscriber batch",
        section="batches",
        form=form,
        product_types=config_options(page, ConfigKind.PRODUCT_TYPE),
        currencies=config_options(page, ConfigKind.CURRENCY),
        domains=tuple((d, d) for d in page.services.batches.charging_domains),
    )


@router.get("/batches/new")
def batch_new(page: Page = Depends(operator_page)) -> Response:
    return _new_page(page, FormState())


def _required_int(form: Form, name: str) -> int:
    value = f.integer(form, name)
    if value is None:
        raise DomainError(ProblemKind.MISSING_FIELD, f"{name.replace('_', ' ')} is required", name)
    return value


def batch_input(form: Form, upload: ListUpload | None) -> tuple[BatchInput, list[str]]:
    """The New Subscriber Batch fields and the list's lines: the file, else the typed ranges."""
    typed = form.get("subscriber_list", "")
    if upload is not None and typed.strip():
        raise invalid("subscriber_list", "give the list as a file or as typed lines, not both")
    if upload is None and not typed.strip():
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            "the subscriber list is required: upload a list file or type the numbers",
            "subscriber_list",
        )
    use_subscriber_id = "use_subscriber_id" in form
    add_pins = "add_pins" in form
    inp = BatchInput(
        account_id=_required_int(form, "account_id"),
        batch_size=_required_int(form, "batch_size"),
        product_type=form.get("product_type", ""),
        result_filename=form.get("result_filename", "").strip(),
        list_filename=None if upload is None else upload.filename,
        charging_domain=form.get("charging_domain") or "default",
        currency=f.text(form, "currency"),
        max_concurrent_accesses=f.integer(form, "max_concurrent_accesses"),
        use_subscriber_id=use_subscriber_id,
        # Greyed out in the manual while the subscriber ID is the card number: ignored then.
        card_first=None if use_subscriber_id else f.text(form, "card_first"),
        card_last=None if use_subscriber_id else f.text(form, "card_last"),
        add_pins=add_pins,
        pin_length=f.integer(form, "pin_length") if add_pins else None,
    )
    return inp, (typed if upload is None else upload.text).splitlines()


def start_job(page: Page, form: Form, inp: BatchInput, lines: list[str]) -> BatchJob:
    """prepare (refuses, writing nothing) then the background run, as POST /subscriber-batches."""
    jobs = console_jobs(page.request)
    path = jobs.directory / f"result-{secrets.token_hex(8)}.txt"
    sink = FileResultSink(path, inp.add_pins)
    service = page.services.batches
    actor = page.acting(form)
    try:
        plan = service.prepare(actor, inp, lines)
    except BaseException:
        sink.close()
        path.unlink(missing_ok=True)
        raise
    return jobs.start(service, actor, plan, sink)


@router.post("/batches/new")
def batch_create(
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
    upload: ListUpload | None = Depends(list_upload),
) -> Response:
    try:
        inp, lines = batch_input(form, upload)
        job = start_job(page, form, inp, lines)
    except DomainError as exc:
        state = page.refused(exc, form, NEW_FIELDS, NEW_ALIASES)
        return _new_page(page, state, state.status)
    return page.redirect(f"/batches/jobs/{job.id}")


def _job_context(page: Page, job_id: int) -> dict[str, Any]:
    job = console_jobs(page.request).get(page.operator, job_id)
    batch = page.services.batches.get(page.operator, job.batch_id).batch
    percent = 100 if job.total == 0 else job.done * 100 // job.total
    return {
        "job": job,
        "batch": batch,
        "percent": percent,
        "running": job.state is JobState.RUNNING,
        "may_download": job.started_by == page.operator.username
        and bool(job.view()["result_available"]),
        "poll_s": JOB_POLL_S,
    }


@router.get("/batches/jobs/{job_id}")
def job_page(job_id: int, page: Page = Depends(operator_page)) -> Response:
    context = _job_context(page, job_id)
    template = "batches/job_live.html" if page.htmx else "batches/job.html"
    return page.render(template, title="Subscriber batch creation", section="batches", **context)


@router.post("/batches/jobs/{job_id}/result")
def job_result(
    job_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """The result file as a download, once: it is the only copy of the PINs."""
    jobs = console_jobs(page.request)
    job = jobs.get(page.operator, job_id)
    batch = page.services.batches.get(page.operator, job.batch_id).batch
    text = jobs.take_result(page.operator, job_id)
    filename = Path(batch.result_filename).name.replace('"', "")
    return page.finish(
        PlainTextResponse(
            text,
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    )


# -- one batch -----------------------------------------------------------------------------------


def _batch(page: Page, batch_id: int) -> Batch:
    batch = page.services.batches.get(page.operator, batch_id).batch
    if batch.service_provider != page.provider:
        raise not_found("subscriber batch", batch_id)
    return batch


def _activation_reasons(page: Page) -> tuple[Option, ...]:
    records = page.services.configuration.list_records(page.operator, ConfigKind.STATE_REASON)
    active = EntityState.ACTIVE.value
    return tuple((str(r["code"]), option_label(r)) for r in records if r["state"] == active)


def render_batch(
    page: Page,
    batch_id: int,
    edit: FormState = EMPTY,
    remove: FormState = EMPTY,
    status_code: int = 200,
) -> Response:
    _batch(page, batch_id)
    view = page.services.batches.get(page.operator, batch_id)
    members = page.services.batches.members(page.operator, batch_id, 0, MEMBERS_ROWS_MAX)
    targets = tuple((s.value, s.value) for s in sorted(EDIT_TRANSITIONS[view.batch.state]))
    return page.render(
        "batches/detail.html",
        status_code=status_code,
        title=f"Subscriber batch {batch_id}",
        section="batches",
        view=view,
        batch=view.batch,
        members=members,
        members_max=MEMBERS_ROWS_MAX,
        targets=targets,
        reasons=_activation_reasons(page),
        subscribers_deletable=view.batch.state in SUBSCRIBERS_DELETABLE,
        edit=edit,
        remove=remove,
    )


@router.get("/batches/{batch_id}")
def batch_detail(batch_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_batch(page, batch_id)


@router.post("/batches/{batch_id}")
def batch_edit(
    batch_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """Edit the state, the only field the manual lets an edit change."""
    _batch(page, batch_id)
    target = form.get("state", "")
    reason = f.text(form, "state_reason") if target == BatchState.ACTIVE.value else None
    try:
        if not target:
            raise DomainError(ProblemKind.MISSING_FIELD, "choose the new state", "state")
        page.services.batches.edit(page.acting(form), batch_id, target, reason)
    except DomainError as exc:
        state = page.refused(exc, form, EDIT_FIELDS)
        return render_batch(page, batch_id, edit=state, status_code=state.status)
    return page.redirect(f"/batches/{batch_id}", notice="saved")


@router.post("/batches/{batch_id}/delete")
def batch_delete(
    batch_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _batch(page, batch_id)
    try:
        page.services.batches.delete(page.acting(form), batch_id, "with_subscribers" in form)
    except DomainError as exc:
        state = page.refused(exc, form, ("with_subscribers",))
        return render_batch(page, batch_id, remove=state, status_code=state.status)
    return page.redirect("/batches", notice="deleted")
