"""Integration configuration endpoints, one set per configuration kind."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, create_model

from ocs.core.configuration import SPECS, ConfigKind, EntitySpec, FieldSpec, FieldType, Record
from ocs.service.actor import Actor

from .auth import current_actor

STRICT = ConfigDict(extra="forbid", strict=True)


def _python_type(f: FieldSpec) -> Any:
    return {FieldType.BOOL: bool, FieldType.INT: int}.get(f.type, str)


def _models(spec: EntitySpec) -> tuple[type[BaseModel], type[BaseModel]]:
    name = spec.label.title().replace(" ", "")
    create_fields: dict[str, Any] = {}
    update_fields: dict[str, Any] = {}
    for f in spec.fields:
        typ = _python_type(f)
        create_fields[f.name] = (typ, ...) if f.required else (typ | None, f.default)
        update_fields[f.name] = (typ | None, None)
    create = create_model(f"{name}Create", __config__=STRICT, **create_fields)
    patch = create_model(f"{name}Update", __config__=STRICT, **update_fields)
    return create, patch


def _add_routes(router: APIRouter, kind: ConfigKind) -> None:
    spec = SPECS[kind]
    create_body, update_body = _models(spec)
    path = f"/config/{kind.value}"
    tag = "configuration"

    def create(
        request: Request,
        body: create_body,  # type: ignore[valid-type]
        actor: Actor = Depends(current_actor),
    ) -> Record:
        payload = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        return request.app.state.services.configuration.create(actor, kind, payload)  # type: ignore[no-any-return]

    def list_all(request: Request, actor: Actor = Depends(current_actor)) -> list[Record]:
        return request.app.state.services.configuration.list_records(actor, kind)  # type: ignore[no-any-return]

    def get_one(request: Request, code: str, actor: Actor = Depends(current_actor)) -> Record:
        return request.app.state.services.configuration.get(actor, kind, code)  # type: ignore[no-any-return]

    def update(
        request: Request,
        code: str,
        body: update_body,  # type: ignore[valid-type]
        actor: Actor = Depends(current_actor),
    ) -> Record:
        payload = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        return request.app.state.services.configuration.update(actor, kind, code, payload)  # type: ignore[no-any-return]

    def remove(request: Request, code: str, actor: Actor = Depends(current_actor)) -> Response:
        request.app.state.services.configuration.delete(actor, kind, code)
        return Response(status_code=204)

    label = spec.label.lower()
    router.add_api_route(
        path,
        create,
        methods=["POST"],
        status_code=201,
        tags=[tag],
        summary=f"Create {label}",
        operation_id=f"create_{kind.name.lower()}",
    )
    router.add_api_route(
        path,
        list_all,
        methods=["GET"],
        tags=[tag],
        summary=f"List {label}s",
        operation_id=f"list_{kind.name.lower()}",
    )
    router.add_api_route(
        f"{path}/{{code}}",
        get_one,
        methods=["GET"],
        tags=[tag],
        summary=f"Read {label}",
        operation_id=f"get_{kind.name.lower()}",
    )
    router.add_api_route(
        f"{path}/{{code}}",
        update,
        methods=["PATCH"],
        tags=[tag],
        summary=f"Update {label}",
        operation_id=f"update_{kind.name.lower()}",
    )
    router.add_api_route(
        f"{path}/{{code}}",
        remove,
        methods=["DELETE"],
        status_code=204,
        tags=[tag],
        summary=f"Delete {label}",
        operation_id=f"delete_{kind.name.lower()}",
    )


def config_router() -> APIRouter:
    router = APIRouter()
    for kind in ConfigKind:
        _add_routes(router, kind)
    return router
