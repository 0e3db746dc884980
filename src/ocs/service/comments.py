"""Use cases for comments on a subscriber: read-only operators read them, read-modify
operators add comments and edit their own, create-delete operators may change any."""

from __future__ import annotations

from ocs.core.comments import (
    COMMENTS_PER_SUBSCRIBER_MAX,
    Comment,
    CommentAction,
    check_comment_text,
    may_change_comment,
)
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.feature_access import FeatureService, locked_subscriber, visible_subscriber
from ocs.service.ports import UnitOfWork


class CommentService(FeatureService):
    def list_comments(self, actor: Actor, subscriber_id: int) -> list[Comment]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.list_comments(subscriber_id)

    def add(self, actor: Actor, subscriber_id: int, text: str) -> Comment:
        _require(actor, CommentAction.CREATE, None)
        body = check_comment_text(text)
        now = self.clock.now()
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            if len(uow.features.list_comments(subscriber_id)) >= COMMENTS_PER_SUBSCRIBER_MAX:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"the subscriber already has {COMMENTS_PER_SUBSCRIBER_MAX} comments",
                    "text",
                )
            comment = Comment(0, subscriber_id, actor.username, body, now, now)
            comment_id = uow.features.insert_comment(comment)
            detail = {"comment": comment_id, "text": body}
            self._audit(uow, actor, "create", "comment", subscriber_id, detail)
            return Comment(comment_id, subscriber_id, actor.username, body, now, now)

    def edit(self, actor: Actor, subscriber_id: int, comment_id: int, text: str) -> Comment:
        body = check_comment_text(text)
        now = self.clock.now()
        with self.store.transaction() as uow:
            current = _comment(uow, actor, subscriber_id, comment_id)
            _require(actor, CommentAction.EDIT, current.author)
            uow.features.update_comment(comment_id, body, now)
            detail = {"comment": comment_id, "text": body}
            self._audit(uow, actor, "update", "comment", subscriber_id, detail)
            return Comment(comment_id, subscriber_id, current.author, body, current.created_at, now)

    def delete(self, actor: Actor, subscriber_id: int, comment_id: int) -> None:
        with self.store.transaction() as uow:
            current = _comment(uow, actor, subscriber_id, comment_id)
            _require(actor, CommentAction.DELETE, current.author)
            uow.features.delete_comment(comment_id)
            self._audit(uow, actor, "delete", "comment", subscriber_id, {"comment": comment_id})


def _require(actor: Actor, action: CommentAction, author: str | None) -> None:
    if not may_change_comment(actor.privileges, actor.username, action, author):
        whose = "" if author is None else f" written by {author!r}"
        raise DomainError(
            ProblemKind.FORBIDDEN,
            f"operator {actor.username!r} may not {action.value} comments{whose}",
            "comment",
        )


def _comment(uow: UnitOfWork, actor: Actor, subscriber_id: int, comment_id: int) -> Comment:
    locked_subscriber(uow, actor, subscriber_id)
    comment = uow.features.get_comment(comment_id)
    if comment is None or comment.subscriber_id != subscriber_id:
        raise not_found("comment", comment_id)
    return comment
