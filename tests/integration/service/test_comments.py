"""Subscriber comments and their three access levels, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.errors import ProblemKind
from ocs.core.security import Role
from ocs.service.actor import Actor
from tests.support.clock import FakeClock
from tests.support.features import (
    OTHER_SP_OPERATOR,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

ANN = operator("ann", Role.READ_MODIFY)
BOB = operator("bob", Role.READ_MODIFY)
READER = operator("reader", Role.READ_ONLY)
MANAGER = operator("manager", Role.CREATE_DELETE)


@pytest.fixture
def sub(services: Services, admin: Actor) -> int:
    load_feature_basics(services, admin)
    return add_subscriber(services, admin, "31600000001")


def test_add_edit_list_delete(services: Services, admin: Actor, sub: int, clock: FakeClock) -> None:
    comments = services.features.comments
    first = comments.add(ANN, sub, "  called about roaming  ")
    assert (first.author, first.text, first.created_at) == (
        "ann",
        "called about roaming",
        clock.now(),
    )
    clock.advance(60)
    edited = comments.edit(ANN, sub, first.id, "called twice about roaming")
    assert (edited.text, edited.created_at, edited.updated_at) == (
        "called twice about roaming", first.created_at, clock.now(),
    )  # fmt: skip
    second = comments.add(BOB, sub, "promised a refund")
    assert comments.list_comments(READER, sub) == [edited, second]
    comments.delete(MANAGER, sub, first.id)
    assert comments.list_comments(READER, sub) == [second]


def test_a_51_character_comment_is_refused(services: Services, admin: Actor, sub: int) -> None:
    comments = services.features.comments
    comments.add(ANN, sub, "x" * 50)
    error = refused(comments.add, ANN, sub, "x" * 51)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "text")
    first = comments.list_comments(ANN, sub)[0]
    error = refused(comments.edit, ANN, sub, first.id, "y" * 51)
    assert error.field == "text"
    assert [c.text for c in comments.list_comments(ANN, sub)] == ["x" * 50]


def test_read_modify_may_not_edit_another_operators_comment(
    services: Services, admin: Actor, sub: int
) -> None:
    comments = services.features.comments
    anns = comments.add(ANN, sub, "ann's note")
    error = refused(comments.edit, BOB, sub, anns.id, "bob was here")
    assert (error.kind, error.field) == (ProblemKind.FORBIDDEN, "comment")
    assert "written by 'ann'" in error.detail
    assert comments.list_comments(admin, sub) == [anns]
    # A create-delete operator may edit anyone's comment, which stays the author's.
    edited = comments.edit(MANAGER, sub, anns.id, "corrected")
    assert (edited.author, edited.text) == ("ann", "corrected")


def test_read_modify_may_not_delete_and_read_only_may_not_write(
    services: Services, admin: Actor, sub: int
) -> None:
    comments = services.features.comments
    anns = comments.add(ANN, sub, "ann's note")
    assert refused(comments.delete, ANN, sub, anns.id).kind is ProblemKind.FORBIDDEN
    assert refused(comments.add, READER, sub, "hello").kind is ProblemKind.FORBIDDEN
    assert refused(comments.edit, READER, sub, anns.id, "x").kind is ProblemKind.FORBIDDEN
    assert comments.list_comments(READER, sub) == [anns]


def test_comments_belong_to_their_subscriber(services: Services, admin: Actor, sub: int) -> None:
    comments = services.features.comments
    other = add_subscriber(services, admin, "31600000002")
    note = comments.add(ANN, sub, "note")
    assert refused(comments.edit, ANN, other, note.id, "moved").kind is ProblemKind.NOT_FOUND
    assert refused(comments.list_comments, OTHER_SP_OPERATOR, sub).kind is ProblemKind.NOT_FOUND
    audit = services.operators.audit_trail(admin, "comment", 10)
    assert [(e.operator, e.action, e.entity_key) for e in audit] == [("ann", "create", str(sub))]
