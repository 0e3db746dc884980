"""Lifecycle states shared by customers, accounts, subscribers and subscriptions."""

from __future__ import annotations

from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind


class EntityState(StrEnum):
    INACTIVE = "INACTIVE"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DEACTIVATED = "DEACTIVATED"


# INACTIVE is only ever an initial state; DEACTIVATED is final.
ALLOWED_TRANSITIONS: dict[EntityState, frozenset[EntityState]] = {
    EntityState.INACTIVE: frozenset(
        {EntityState.ACTIVE, EntityState.SUSPENDED, EntityState.DEACTIVATED}
    ),
    EntityState.ACTIVE: frozenset({EntityState.SUSPENDED, EntityState.DEACTIVATED}),
    EntityState.SUSPENDED: frozenset({EntityState.ACTIVE, EntityState.DEACTIVATED}),
    EntityState.DEACTIVATED: frozenset(),
}


def check_transition(current: EntityState, target: EntityState) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"cannot change state from {current.value} to {target.value}",
            "state",
        )


def parse_state(value: object, field: str = "state") -> EntityState:
    try:
        return EntityState(str(value))
    except ValueError:
        choices = ", ".join(s.value for s in EntityState)
        raise DomainError(
            ProblemKind.INVALID_VALUE, f"{field} must be one of {choices}, got {value!r}", field
        ) from None
