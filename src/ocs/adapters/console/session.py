"""Signed console cookies: the operator session and the CSRF token.

The session cookie holds the operator's API token (hashed in the database, revoked at logout)
and the chosen service provider; the CSRF cookie holds a random token that every POST must
echo in its form (double submit). Both are signed with a secret kept in the settings table.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from ocs.service.operators import TOKEN_VALIDITY_S

SESSION_COOKIE = "ocs_session"
CSRF_COOKIE = "ocs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_VALIDITY_S = TOKEN_VALIDITY_S


@dataclass(frozen=True)
class SessionData:
    token: str
    provider: str | None


class CookieCodec:
    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="ocs-console-session")
        self._csrf = URLSafeTimedSerializer(secret, salt="ocs-console-csrf")

    def dump_session(self, data: SessionData) -> str:
        return self._session.dumps({"t": data.token, "p": data.provider})

    def load_session(self, value: str | None) -> SessionData | None:
        loaded = _load(self._session, value, TOKEN_VALIDITY_S)
        if not isinstance(loaded, dict) or not isinstance(loaded.get("t"), str):
            return None
        provider = loaded.get("p")
        return SessionData(loaded["t"], provider if isinstance(provider, str) else None)

    def new_csrf(self) -> tuple[str, str]:
        """A fresh CSRF token and the signed cookie value that carries it."""
        token = secrets.token_urlsafe(32)
        return token, self._csrf.dumps(token)

    def load_csrf(self, value: str | None) -> str | None:
        loaded = _load(self._csrf, value, CSRF_VALIDITY_S)
        return loaded if isinstance(loaded, str) else None


def _load(serializer: URLSafeTimedSerializer, value: str | None, max_age_s: int) -> object:
    if not value:
        return None
    try:
        return serializer.loads(value, max_age=max_age_s)
    except BadSignature:  # also covers SignatureExpired
        return None


def tokens_match(sent: str | None, expected: str | None) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age_s: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age_s,
        path=request.scope.get("root_path") or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=request.scope.get("root_path") or "/", httponly=True, samesite="strict"
    )
