"""Subscriber batches over REST. Creating one checks everything at once (a refusal is an
ordinary problem response) and then writes the subscribers in a background thread: the answer
is 202 with a job to poll for progress, and when the job has finished its creator downloads
the result file once (it is the only copy of the PINs)."""

from __future__ import annotations

import itertools
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ocs.adapters.batch_results import FileResultSink
from ocs.core.batches import Batch
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.service.actor import Actor
from ocs.service.batch_ports import BatchMember
from ocs.service.batches import BatchInput, BatchPlan, BatchService, BatchView

from .auth import current_actor

JOBS_MAX = 100
LIST_TEXT_LENGTH_MAX = 20_000_000


class JobState(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass
class BatchJob:
    id: int
    batch_id: int
    started_by: str
    service_provider: str
    total: int
    result_path: Path
    state: JobState = JobState.RUNNING
    done: int = 0
    errors: list[str] = field(default_factory=list)
    result_taken: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "batch_id": self.batch_id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "errors": list(self.errors),
            "result_available": self.state is not JobState.RUNNING and not self.result_taken,
        }


class BatchJobs:
    """The creation jobs of this process (bounded: the oldest finished jobs are forgotten)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._jobs: dict[int, BatchJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(
        self, service: BatchService, actor: Actor, plan: BatchPlan, sink: FileResultSink
    ) -> BatchJob:
        with self._lock:
            self._evict()
            job = BatchJob(
                next(self._ids),
                plan.batch.id,
                actor.username,
                plan.batch.service_provider,
                plan.batch.size,
                sink.path,
            )
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run, args=(service, actor, plan, sink, job), daemon=True,
            name=f"batch-job-{job.id}",
        )  # fmt: skip
        thread.start()
        return job

    def _run(
        self,
        service: BatchService,
        actor: Actor,
        plan: BatchPlan,
        sink: FileResultSink,
        job: BatchJob,
    ) -> None:
        def progress(done: int, total: int) -> None:
            job.done = done

        try:
            service.run(actor, plan, sink, progress)
            job.state = JobState.SUCCEEDED
        except DomainError as exc:
            job.errors.append(exc.detail)
            job.state = JobState.FAILED
        except Exception as exc:  # the job must end, whatever the failure
            job.errors.append(f"{type(exc).__name__}: {exc}")
            job.state = JobState.FAILED
        finally:
            sink.close()

    def get(self, actor: Actor, job_id: int) -> BatchJob:
        job = self._jobs.get(job_id)
        if job is None or not actor.may_use_provider(job.service_provider):
            raise not_found("batch job", job_id)
        return job

    def take_result(self, actor: Actor, job_id: int) -> str:
        """The result file's text, once, to the operator who started the job."""
        job = self.get(actor, job_id)
        if job.started_by != actor.username:
            raise DomainError(
                ProblemKind.FORBIDDEN, "only the operator who created the batch gets its result"
            )
        with self._lock:
            if job.state is JobState.RUNNING:
                raise DomainError(ProblemKind.CONFLICT, f"batch job {job_id} is still running")
            if job.result_taken:
                raise DomainError(
                    ProblemKind.NOT_FOUND, f"the result of batch job {job_id} was taken already"
                )
            job.result_taken = True
        text = job.result_path.read_text(encoding="ascii")
        job.result_path.unlink(missing_ok=True)
        return text

    def _evict(self) -> None:
        finished = [j for j in self._jobs.values() if j.state is not JobState.RUNNING]
        while len(self._jobs) >= JOBS_MAX and finished:
            oldest = finished.pop(0)
            oldest.result_path.unlink(missing_ok=True)
            del self._jobs[oldest.id]
        if len(self._jobs) >= JOBS_MAX:
            raise DomainError(ProblemKind.OVERLOADED, f"{JOBS_MAX} batch jobs are running")


_jobs_lock = threading.Lock()


def _jobs(request: Request) -> BatchJobs:
    state = request.app.state
    with _jobs_lock:
        jobs = getattr(state, "batch_jobs", None)
        if jobs is None:
            jobs = BatchJobs(Path(tempfile.mkdtemp(prefix="ocs-batch-results-")))
            state.batch_jobs = jobs
    return jobs


def _batches(request: Request) -> BatchService:
    return request.app.state.services.batches  # type: ignore[no-any-return]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class BatchCreate(Body):
    """The New Subscriber Batch fields, with the list file's content."""

    account_id: StrictInt = Field(description="The account every subscriber of the batch joins")
    batch_size: StrictInt
    product_type: StrictStr
    result_filename: StrictStr = Field(description="Name the result file is known by")
    subscriber_list: StrictStr = Field(
        max_length=LIST_TEXT_LENGTH_MAX,
        description="The list file: one number or first-last range per line, # comments",
    )
    list_filename: StrictStr | None = None
    charging_domain: StrictStr = "default"
    currency: StrictStr | None = None
    max_concurrent_accesses: StrictInt | None = None
    use_subscriber_id: StrictBool = True
    card_first: StrictStr | None = None
    card_last: StrictStr | None = None
    add_pins: StrictBool = False
    pin_length: StrictInt | None = None


class BatchEdit(Body):
    state: StrictStr
    state_reason: StrictStr | None = None


router = APIRouter(tags=["subscriber batches"])


@router.post("/subscriber-batches", status_code=202, summary="Create a batch (background job)")
def create_batch(
    request: Request, response: Response, body: BatchCreate, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    jobs = _jobs(request)
    fields = body.model_dump(exclude={"subscriber_list"})
    inp = BatchInput(**fields)
    path = jobs.directory / f"result-{secrets.token_hex(8)}.txt"
    sink = FileResultSink(path, inp.add_pins)
    try:
        plan = _batches(request).prepare(actor, inp, body.subscriber_list.splitlines())
    except BaseException:
        sink.close()
        path.unlink(missing_ok=True)
        raise
    job = jobs.start(_batches(request), actor, plan, sink)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/jobs/{job.id}"
    return {"job": job.view(), "batch": plan.batch}


@router.get("/subscriber-batches/jobs/{job_id}", summary="Progress of a creation job")
def get_job(request: Request, job_id: int, actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    return _jobs(request).get(actor, job_id).view()


@router.get(
    "/subscriber-batches/jobs/{job_id}/result",
    response_class=PlainTextResponse,
    summary="The result file, once, to the job's operator",
)
def get_job_result(
    request: Request, job_id: int, actor: Actor = Depends(current_actor)
) -> PlainTextResponse:
    text = _jobs(request).take_result(actor, job_id)
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.get("/subscriber-batches", summary="Find batches by subscriber ID prefix and state")
def search_batches(
    request: Request,
    subscriber_prefix: str = "",
    state: str | None = None,
    service_provider: str | None = None,
    actor: Actor = Depends(current_actor),
) -> list[Batch]:
    return _batches(request).search(actor, subscriber_prefix, state, service_provider)


@router.get("/subscriber-batches/{batch_id}")
def get_batch(request: Request, batch_id: int, actor: Actor = Depends(current_actor)) -> Any:
    view: BatchView = _batches(request).get(actor, batch_id)
    return {
        "batch": view.batch,
        "ranges": [r.text for r in view.ranges],
        "members": view.members,
    }


@router.get(
    "/subscriber-batches/{batch_id}/subscribers",
    summary="Subscriber ID -> wallet reference, 100 at a time",
)
def batch_members(
    request: Request,
    batch_id: int,
    after_id: int = Query(0, description="Continue after this subscriber (its id)"),
    limit: int = Query(100),
    actor: Actor = Depends(current_actor),
) -> list[BatchMember]:
    return _batches(request).members(actor, batch_id, after_id, limit)


@router.patch("/subscriber-batches/{batch_id}", summary="Change the batch state")
def edit_batch(
    request: Request, batch_id: int, body: BatchEdit, actor: Actor = Depends(current_actor)
) -> Batch:
    return _batches(request).edit(actor, batch_id, body.state, body.state_reason)


@router.delete("/subscriber-batches/{batch_id}")
def delete_batch(
    request: Request,
    batch_id: int,
    with_subscribers: bool = Query(False, description="Also delete its (never active) subscribers"),
    actor: Actor = Depends(current_actor),
) -> dict[str, int]:
    deleted = _batches(request).delete(actor, batch_id, with_subscribers)
    return {"subscribers_deleted": deleted}
