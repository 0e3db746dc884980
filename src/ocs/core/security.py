"""Operator privileges and roles."""

from __future__ import annotations

import re
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid

CHANGE_REASON_LENGTH_MAX = 200
USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.\-]{1,31}$")
PASSWORD_LENGTH_MIN = 8


class Privilege(StrEnum):
    READ = "read"
    MODIFY = "modify"
    CREATE_DELETE = "create_delete"
    EXECUTE = "execute"
    NO_MASKING = "no_masking"
    ADMIN = "admin"


class Role(StrEnum):
    READ_ONLY = "read_only"
    READ_MODIFY = "read_modify"
    CREATE_DELETE = "create_delete"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLE_PRIVILEGES: dict[Role, frozenset[Privilege]] = {
    Role.READ_ONLY: frozenset({Privilege.READ}),
    Role.READ_MODIFY: frozenset({Privilege.READ, Privilege.MODIFY}),
    Role.CREATE_DELETE: frozenset({Privilege.READ, Privilege.MODIFY, Privilege.CREATE_DELETE}),
    Role.OPERATOR: frozenset(
        {Privilege.READ, Privilege.MODIFY, Privilege.CREATE_DELETE, Privilege.EXECUTE}
    ),
    Role.ADMIN: frozenset(Privilege),
}


def parse_role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise invalid("role", f"role must be one of {', '.join(r.value for r in Role)}") from None


def check_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME_PATTERN.match(value):
        raise invalid(
            "username", "username must be 2-32 lower-case letters, digits or _.- starting a-z"
        )
    return value


def check_password(value: object) -> str:
    if not isinstance(value, str) or len(value) < PASSWORD_LENGTH_MIN:
        raise invalid("password", f"password must be at least {PASSWORD_LENGTH_MIN} characters")
    return value


def check_change_reason(reason: str | None, auditing: bool) -> str | None:
    """The normalised change reason, required (and bounded) when EDR auditing is on."""
    text = reason.strip() if reason else None
    if text and len(text) > CHANGE_REASON_LENGTH_MAX:
        raise invalid(
            "change_reason", f"change reason must be at most {CHANGE_REASON_LENGTH_MAX} characters"
        )
    if auditing and not text:
        raise DomainError(
            ProblemKind.CHANGE_REASON_REQUIRED,
            "EDR auditing is on: this change needs a change reason (X-Change-Reason header)",
            "change_reason",
        )
    return text
