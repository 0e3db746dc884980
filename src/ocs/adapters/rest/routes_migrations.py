"""Wallet migrations between charging domains over REST (seed 003 "UBE Account Balancing"):
records, the buttons, the report and remaining-subscribers downloads, and Check Accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from ocs.core.errors import invalid
from ocs.core.migrations import (
    ROW_COLOURS,
    Migration,
    MigrationAction,
    RefreshGroup,
    allowed_actions,
    fields_from,
    parse_changes,
    wallet_state_letters,
)
from ocs.service.actor import Actor
from ocs.service.migrations import MigrationService

from .auth import current_actor

BODY_FIELDS_MAX = 32

router = APIRouter(tags=["wallet migrations"])


def _service(request: Request) -> MigrationService:
    service: MigrationService = request.app.state.services.migrations
    return service


def migration_view(m: Migration) -> dict[str, Any]:
    f = m.fields
    return {
        "id": m.id,
        "service_provider": f.service_provider,
        "source_domain": f.source_domain,
        "target_domain": f.target_domain,
        "selection": f.selection.value,
        "first_selection": m.first_selection.value,
        "wallet_states": sorted(s.value for s in f.wallet_states),
        "wallet_state_letters": wallet_state_letters(f.wallet_states),
        "range_start": f.range_start,
        "range_end": f.range_end,
        "account_batch_id": f.account_batch_id,
        "input_filename": f.input_filename,
        "input_lines": len(f.input_numbers),
        "product_type": f.product_type,
        "batch_id": f.batch_id,
        "max_wallets": f.max_wallets,
        "throttle_per_s": f.throttle_per_s,
        "remaining_filename": f.remaining_filename,
        "state": m.state.value,
        "state_label": m.state.label,
        "row_colour": ROW_COLOURS[m.state],
        "created_by": m.created_by,
        "created_at": m.created_at,
        "started_at": m.started_at,
        "ended_at": m.ended_at,
        "end_or_progress": m.end_or_progress(),
        "wallets_total": m.wallets_total,
        "wallets_moved": m.wallets_moved,
        "progress_percent": m.progress_percent,
        "has_report": m.report is not None,
        "actions": sorted(a.value for a in allowed_actions(m.state, m.report is not None)),
    }


def _body(body: Any) -> dict[str, object]:
    if not isinstance(body, dict) or len(body) > BODY_FIELDS_MAX:
        raise invalid("body", "the body must be a JSON object of migration fields")
    return {str(k): v for k, v in body.items()}


@router.post("/migrations", status_code=201, summary="Create a migration (state P)")
async def create_migration(request: Request, actor: Actor = Depends(current_actor)) -> Any:
    data = _body(await request.json())
    return migration_view(_service(request).create(actor, fields_from(data)))


@router.get("/migrations", summary="Migrations of the ticked Refresh groups, newest first")
def list_migrations(
    request: Request,
    group: list[RefreshGroup] = Query(
        default=[RefreshGroup.COMPLETE, RefreshGroup.RUNNING, RefreshGroup.PENDING],
        description="complete (M C I F), running (R), pending (N P H S I F)",
    ),
    actor: Actor = Depends(current_actor),
) -> list[dict[str, Any]]:
    return [migration_view(m) for m in _service(request).search(actor, group)]


@router.get("/migrations/check-accounts", summary="Wallets per state, subscribers per product type")
def check_accounts(
    request: Request,
    source: str = Query(..., description="Source domain"),
    target: str = Query(..., description="Target domain"),
    actor: Actor = Depends(current_actor),
) -> dict[str, Any]:
    summary = _service(request).check_accounts(actor, source, target)
    return {"source": summary.source, "target": summary.target}


@router.get("/migrations/{migration_id}")
def get_migration(
    request: Request, migration_id: int, actor: Actor = Depends(current_actor)
) -> Any:
    return migration_view(_service(request).get(actor, migration_id))


@router.patch("/migrations/{migration_id}", summary="Save an edit (the manual's field rules)")
async def edit_migration(
    request: Request, migration_id: int, actor: Actor = Depends(current_actor)
) -> Any:
    changes = parse_changes(_body(await request.json()))
    return migration_view(_service(request).update(actor, migration_id, changes))


@router.post(
    "/migrations/{migration_id}/{action}",
    summary="A button: priority, restart, pause, hold or cancel",
)
def act(
    request: Request, migration_id: int, action: str, actor: Actor = Depends(current_actor)
) -> Any:
    buttons = ("priority", "restart", "pause", "hold", "cancel")
    if action not in buttons:
        raise invalid("action", f"action must be one of {', '.join(buttons)}")
    return migration_view(_service(request).act(actor, migration_id, MigrationAction(action)))


@router.get(
    "/migrations/{migration_id}/report",
    response_class=PlainTextResponse,
    summary="The report (as the manual's exported report)",
)
def report(
    request: Request, migration_id: int, actor: Actor = Depends(current_actor)
) -> PlainTextResponse:
    text = _service(request).report(actor, migration_id)
    name = f"migration-{migration_id}-report.txt"
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/migrations/{migration_id}/remaining-subscribers",
    response_class=PlainTextResponse,
    summary="Subscribers not migrated, one per line (an input file for a rerun)",
)
def remaining(
    request: Request, migration_id: int, actor: Actor = Depends(current_actor)
) -> PlainTextResponse:
    service = _service(request)
    numbers = service.remaining_subscribers(actor, migration_id)
    migration = service.get(actor, migration_id)
    name = migration.fields.remaining_filename or f"migration-{migration_id}-remaining.txt"
    text = "".join(f"{n}\n" for n in numbers)
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.delete("/migrations/{migration_id}", status_code=204)
def delete_migration(
    request: Request, migration_id: int, actor: Actor = Depends(current_actor)
) -> None:
    _service(request).delete(actor, migration_id)
