"""Business process logic tasks (definitions, a subscriber's task forms and runs) and the
subscriber promotions view."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocs.core.bpl import Run, Task
from ocs.service.actor import Actor
from ocs.service.bpl import ActionInput, BplService, ParameterInput, TaskForm, TaskInput
from ocs.service.promotions import PromotionService, SubscriberPromotions

from .auth import current_actor

router = APIRouter(tags=["business process logic, promotions"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ParameterBody(Body):
    name: str
    type: str = Field(description="STRING, INTEGER, MONEY, DATE, BOOLEAN or CHOICE")
    mandatory: bool = False
    default: str | int | bool | None = None
    choices: list[str] = Field(default_factory=list, description="Only for CHOICE")


class ActionBody(Body):
    kind: str = Field(description="CHARGE, GRANT_BUCKET, CHANGE_WALLET_STATE or NOTIFY")
    inputs: dict[str, str | int | bool | dict[str, str] | None] = Field(
        default_factory=dict,
        description='Each input a fixed value or {"parameter": "<parameter name>"}',
    )


class TaskBody(Body):
    name: str
    service_provider: str
    description: str | None = None
    parameters: list[ParameterBody] = Field(default_factory=list)
    actions: list[ActionBody] = Field(default_factory=list)


class ExecuteBody(Body):
    values: dict[str, str | int | bool | None] = Field(default_factory=dict)
    mode: str = Field("EXECUTE_ONLY", description="EXECUTE_ONLY or SAVE_AND_EXECUTE")


def _bpl(request: Request) -> BplService:
    return request.app.state.services.bpl  # type: ignore[no-any-return]


def _promotions(request: Request) -> PromotionService:
    return request.app.state.services.promotions  # type: ignore[no-any-return]


def _task_input(body: TaskBody) -> TaskInput:
    return TaskInput(
        name=body.name,
        service_provider=body.service_provider,
        description=body.description,
        parameters=tuple(
            ParameterInput(p.name, p.type, p.mandatory, p.default, tuple(p.choices))
            for p in body.parameters
        ),
        actions=tuple(ActionInput(a.kind, dict(a.inputs)) for a in body.actions),
    )


@router.post("/bpl-tasks", status_code=201, summary="Define a BPL task")
def create_task(request: Request, body: TaskBody, actor: Actor = Depends(current_actor)) -> Task:
    return _bpl(request).create_task(actor, _task_input(body))


@router.get("/bpl-tasks", summary="BPL tasks, optionally of one service provider")
def list_tasks(
    request: Request,
    service_provider: str | None = None,
    actor: Actor = Depends(current_actor),
) -> list[Task]:
    return _bpl(request).list_tasks(actor, service_provider)


@router.get("/bpl-tasks/{task_id}")
def get_task(request: Request, task_id: int, actor: Actor = Depends(current_actor)) -> Task:
    return _bpl(request).get_task(actor, task_id)


@router.put("/bpl-tasks/{task_id}", summary="Replace a task's definition")
def update_task(
    request: Request, task_id: int, body: TaskBody, actor: Actor = Depends(current_actor)
) -> Task:
    return _bpl(request).update_task(actor, task_id, _task_input(body))


@router.delete("/bpl-tasks/{task_id}", status_code=204)
def delete_task(request: Request, task_id: int, actor: Actor = Depends(current_actor)) -> Response:
    _bpl(request).delete_task(actor, task_id)
    return Response(status_code=204)


@router.get(
    "/subscribers/{subscriber_id}/bpl-tasks",
    summary="The subscriber's tasks, with saved values (else defaults)",
)
def subscriber_tasks(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[TaskForm]:
    return _bpl(request).subscriber_tasks(actor, subscriber_id)


@router.get("/subscribers/{subscriber_id}/bpl-tasks/{task_id}")
def subscriber_task(
    request: Request, subscriber_id: int, task_id: int, actor: Actor = Depends(current_actor)
) -> TaskForm:
    return _bpl(request).subscriber_task(actor, subscriber_id, task_id)


@router.post(
    "/subscribers/{subscriber_id}/bpl-tasks/{task_id}/execute",
    summary="Execute only, or save and execute, a task for the subscriber",
)
def execute_task(
    request: Request,
    subscriber_id: int,
    task_id: int,
    body: ExecuteBody,
    actor: Actor = Depends(current_actor),
) -> Run:
    return _bpl(request).execute(actor, subscriber_id, task_id, body.values, body.mode)


@router.get("/subscribers/{subscriber_id}/bpl-runs", summary="The subscriber's task runs")
def subscriber_runs(
    request: Request,
    subscriber_id: int,
    limit: int = Query(50, description="At most this many, newest first (1-200)"),
    actor: Actor = Depends(current_actor),
) -> list[Run]:
    return _bpl(request).runs(actor, subscriber_id, limit)


@router.get(
    "/subscribers/{subscriber_id}/promotions",
    summary="The promotions the subscriber's wallets are eligible for, with their status",
)
def subscriber_promotions(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> SubscriberPromotions:
    return _promotions(request).subscriber_promotions(actor, subscriber_id)
