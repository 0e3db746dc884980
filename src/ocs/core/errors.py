"""Expected failures as values with a stable kind, mapped to problem+json at the edges."""

from __future__ import annotations

from enum import StrEnum


class ProblemKind(StrEnum):
    """Stable problem types; the REST adapter exposes them as `urn:ocs:problem:<value>`."""

    INVALID_VALUE = "invalid-value"
    MISSING_FIELD = "missing-field"
    UNKNOWN_FIELD = "unknown-field"
    IMMUTABLE_FIELD = "immutable-field"
    DUPLICATE = "duplicate"
    UNKNOWN_REFERENCE = "unknown-reference"
    NOT_FOUND = "not-found"
    IN_USE = "in-use"
    CONFLICT = "conflict"
    INVALID_STATE_TRANSITION = "invalid-state-transition"
    STATE_REASON_MISMATCH = "state-reason-mismatch"
    CHANGE_REASON_REQUIRED = "change-reason-required"
    NOT_ALLOWED_IN_STATE = "not-allowed-in-state"
    WALLET_EXPIRED = "wallet-expired"
    INSUFFICIENT_BALANCE = "insufficient-balance"
    MAXIMUM_BALANCE_EXCEEDED = "maximum-balance-exceeded"
    OUTSIDE_ADJUSTMENT_LIMITS = "outside-adjustment-limits"
    OVERLOADED = "overloaded"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"


class DomainError(Exception):
    """A refused request: what kind, why, and which input field caused it."""

    def __init__(self, kind: ProblemKind, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.kind.value!r}, {self.detail!r}, field={self.field!r})"


def invalid(field: str, detail: str) -> DomainError:
    return DomainError(ProblemKind.INVALID_VALUE, detail, field)


def not_found(what: str, key: object) -> DomainError:
    return DomainError(ProblemKind.NOT_FOUND, f"{what} {key!r} does not exist")
