"""Operator comments on a subscriber, with the manual's three access levels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.security import Privilege

COMMENT_LENGTH_MAX = 50
COMMENTS_PER_SUBSCRIBER_MAX = 1000


@dataclass(frozen=True)
class Comment:
    id: int
    subscriber_id: int
    author: str
    text: str
    created_at: datetime
    updated_at: datetime


class CommentAction(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"


def check_comment_text(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(ProblemKind.MISSING_FIELD, "text is required", "text")
    if len(text) > COMMENT_LENGTH_MAX:
        raise invalid(
            "text", f"a comment is at most {COMMENT_LENGTH_MAX} characters, got {len(text)}"
        )
    return text


def may_change_comment(
    privileges: frozenset[Privilege], username: str, action: CommentAction, author: str | None
) -> bool:
    """Read-only sees comments; read-modify adds and edits its own; create-delete adds, edits
    and deletes any. `author` is None for a comment not written yet."""
    if Privilege.ADMIN in privileges or Privilege.CREATE_DELETE in privileges:
        return True
    if Privilege.MODIFY not in privileges:
        return False
    if action is CommentAction.CREATE:
        return True
    return action is CommentAction.EDIT and author == username
