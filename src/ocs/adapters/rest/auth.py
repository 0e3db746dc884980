"""Authentication of REST calls: Bearer tokens or HTTP Basic, plus the change reason header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time

from fastapi import Header, Request

from ocs.core.errors import DomainError, ProblemKind
from ocs.service.actor import Actor
from ocs.service.operators import OperatorService

BASIC_CACHE_TTL_S = 60.0
BASIC_CACHE_ENTRIES_MAX = 1024


class BasicAuthCache:
    """Argon2 is deliberately slow; remember a verified username/password pair briefly."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Actor | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, actor: Actor) -> None:
        with self._lock:
            if len(self._entries) >= BASIC_CACHE_ENTRIES_MAX:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + BASIC_CACHE_TTL_S, actor)


def _unauthenticated(detail: str) -> DomainError:
    return DomainError(ProblemKind.UNAUTHENTICATED, detail)


def authenticate(operators: OperatorService, cache: BasicAuthCache, authorization: str) -> Actor:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return operators.actor_for_token(credentials.strip())
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthenticated("malformed Basic credentials") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise _unauthenticated("malformed Basic credentials")
        key = hashlib.sha256(decoded.encode()).hexdigest()
        actor = cache.get(key)
        if actor is None:
            actor = operators.authenticate(username, password)
            cache.put(key, actor)
        return actor
    raise _unauthenticated("authentication required: use a Bearer token or HTTP Basic")


def current_actor(
    request: Request,
    authorization: str = Header(default="", include_in_schema=False),
    x_change_reason: str | None = Header(
        default=None,
        description="Reason for the change; required on writes when EDR auditing is on",
    ),
) -> Actor:
    state = request.app.state
    actor = authenticate(state.services.operators, state.basic_cache, authorization)
    return actor.with_reason(x_change_reason)
