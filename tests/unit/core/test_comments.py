from __future__ import annotations

import pytest

from ocs.core.comments import (
    COMMENT_LENGTH_MAX,
    CommentAction,
    check_comment_text,
    may_change_comment,
)
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role

CREATE, EDIT, DELETE = CommentAction.CREATE, CommentAction.EDIT, CommentAction.DELETE


@pytest.mark.parametrize(
    ("role", "action", "author", "allowed"),
    [
        (Role.READ_ONLY, CREATE, None, False),
        (Role.READ_ONLY, EDIT, "me", False),
        (Role.READ_ONLY, DELETE, "me", False),
        (Role.READ_MODIFY, CREATE, None, True),
        (Role.READ_MODIFY, EDIT, "me", True),
        (Role.READ_MODIFY, EDIT, "other", False),
        (Role.READ_MODIFY, DELETE, "me", False),
        (Role.READ_MODIFY, DELETE, "other", False),
        (Role.CREATE_DELETE, CREATE, None, True),
        (Role.CREATE_DELETE, EDIT, "other", True),
        (Role.CREATE_DELETE, DELETE, "other", True),
        (Role.ADMIN, DELETE, "other", True),
    ],
)
def test_comment_privileges(
    role: Role, action: CommentAction, author: str | None, allowed: bool
) -> None:
    assert may_change_comment(ROLE_PRIVILEGES[role], "me", action, author) is allowed


def test_comment_text_is_1_to_50_characters() -> None:
    assert check_comment_text("  called about roaming  ") == "called about roaming"
    assert check_comment_text("x" * COMMENT_LENGTH_MAX) == "x" * 50
    with pytest.raises(DomainError) as caught:
        check_comment_text("x" * 51)
    assert (caught.value.kind, caught.value.field) == (ProblemKind.INVALID_VALUE, "text")
    with pytest.raises(DomainError) as caught:
        check_comment_text("   ")
    assert (caught.value.kind, caught.value.field) == (ProblemKind.MISSING_FIELD, "text")
