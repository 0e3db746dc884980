"""application/problem+json responses with a stable `type` and the offending field."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ocs.adapters.problem_log import record_problem
from ocs.core.errors import DomainError, ProblemKind

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_BY_KIND: dict[ProblemKind, int] = {
    ProblemKind.INVALID_VALUE: 422,
    ProblemKind.MISSING_FIELD: 422,
    ProblemKind.UNKNOWN_FIELD: 422,
    ProblemKind.IMMUTABLE_FIELD: 422,
    ProblemKind.UNKNOWN_REFERENCE: 422,
    ProblemKind.STATE_REASON_MISMATCH: 422,
    ProblemKind.CHANGE_REASON_REQUIRED: 428,
    ProblemKind.NOT_ALLOWED_IN_STATE: 409,
    ProblemKind.WALLET_EXPIRED: 409,
    ProblemKind.INSUFFICIENT_BALANCE: 409,
    ProblemKind.MAXIMUM_BALANCE_EXCEEDED: 409,
    ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS: 422,
    ProblemKind.DUPLICATE: 409,
    ProblemKind.CONFLICT: 409,
    ProblemKind.IN_USE: 409,
    ProblemKind.INVALID_STATE_TRANSITION: 409,
    ProblemKind.NOT_FOUND: 404,
    ProblemKind.OVERLOADED: 503,
    ProblemKind.UNAUTHENTICATED: 401,
    ProblemKind.FORBIDDEN: 403,
}


def problem(
    kind: ProblemKind, detail: str, field: str | None = None, status: int | None = None
) -> JSONResponse:
    status = status or STATUS_BY_KIND[kind]
    body: dict[str, object] = {
        "type": f"urn:ocs:problem:{kind.value}",
        "title": kind.value.replace("-", " "),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": 'Basic realm="ocs", Bearer'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _logged(request: Request, kind: ProblemKind, detail: str, field: str | None) -> JSONResponse:
    response = problem(kind, detail, field)
    record_problem(request, "api", response.status_code, kind, detail, field)
    return response


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _logged(request, exc.kind, exc.detail, exc.field)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(location) or None
    kind = ProblemKind.INVALID_VALUE
    if first.get("type") == "missing":
        kind = ProblemKind.MISSING_FIELD
    elif first.get("type") == "extra_forbidden":
        kind = ProblemKind.UNKNOWN_FIELD
    detail = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    return _logged(request, kind, detail, field)
