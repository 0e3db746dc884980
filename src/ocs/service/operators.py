"""Operators: accounts, authentication, API tokens, global settings and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta

from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.security import (
    ROLE_PRIVILEGES,
    Privilege,
    Role,
    check_password,
    check_username,
    parse_role,
)
from ocs.service.actor import EDR_AUDITING_KEY, Actor, edr_auditing_enabled, record_change
from ocs.service.ports import (
    AuditEntry,
    Clock,
    OperatorRecord,
    PasswordHasher,
    Store,
    UnitOfWork,
)

TOKEN_VALIDITY_S = 12 * 3600
AUDIT_ROWS_MAX = 1000
SESSION_SECRET_KEY = "console_session_secret"
SESSION_SECRET_BYTES = 48


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(operator: OperatorRecord) -> Actor:
    return Actor(
        operator.username, ROLE_PRIVILEGES[Role(operator.role)], operator.service_providers
    )


class OperatorService:
    def __init__(self, store: Store, clock: Clock, hasher: PasswordHasher) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher

    def create(
        self,
        actor: Actor,
        username: str,
        password: str,
        role: str,
        service_providers: frozenset[str] | None = None,
    ) -> OperatorRecord:
        actor.require(Privilege.ADMIN)
        name = check_username(username)
        parsed_role = parse_role(role)
        password_hash = self.hasher.hash(check_password(password))
        with self.store.transaction() as uow:
            if uow.operators.by_username(name) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE, f"operator {name!r} already exists", "username"
                )
            _check_providers(uow, service_providers)
            record = OperatorRecord(
                0, name, password_hash, parsed_role.value, service_providers, True, self.clock.now()
            )
            record = replace(record, id=uow.operators.insert(record))
            detail: dict[str, object] = {"role": parsed_role.value}
            record_change(uow, actor, self.clock.now(), "create", "operator", name, detail)
        return record

    def list_operators(self, actor: Actor) -> list[OperatorRecord]:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            return uow.operators.list_all()

    def set_password(self, actor: Actor, username: str, password: str) -> None:
        actor.require(Privilege.ADMIN)
        password_hash = self.hasher.hash(check_password(password))
        with self.store.transaction() as uow:
            current = uow.operators.by_username(username)
            if current is None:
                raise not_found("operator", username)
            uow.operators.update(replace(current, password_hash=password_hash))
            record_change(uow, actor, self.clock.now(), "update", "operator", username, {})

    def update(
        self,
        actor: Actor,
        username: str,
        role: str,
        service_providers: frozenset[str] | None = None,
    ) -> OperatorRecord:
        """Change an operator's role and service providers (None: every provider). An
        administrator cannot take the admin role from themselves, so one always remains."""
        actor.require(Privilege.ADMIN)
        parsed_role = parse_role(role)
        if username == actor.username and parsed_role is not Role.ADMIN:
            raise invalid("role", "you cannot take the admin role from yourself")
        with self.store.transaction() as uow:
            current = _existing(uow, username)
            _check_providers(uow, service_providers)
            record = replace(current, role=parsed_role.value, service_providers=service_providers)
            uow.operators.update(record)
            detail: dict[str, object] = {
                "role": parsed_role.value,
                "service_providers": None
                if service_providers is None
                else sorted(service_providers),
            }
            record_change(uow, actor, self.clock.now(), "update", "operator", username, detail)
        return record

    def set_active(self, actor: Actor, username: str, active: bool) -> OperatorRecord:
        """Deactivate (or reactivate) an operator: a deactivated one can no longer sign in,
        and its tokens and console sessions stop working on their next request."""
        actor.require(Privilege.ADMIN)
        if username == actor.username and not active:
            raise invalid("active", "you cannot deactivate yourself")
        with self.store.transaction() as uow:
            record = replace(_existing(uow, username), active=active)
            uow.operators.update(record)
            action = "activate" if active else "deactivate"
            record_change(uow, actor, self.clock.now(), action, "operator", username, {})
        return record

    def authenticate(self, username: str, password: str) -> Actor:
        """The operator's actor for a correct password; one error for every failure."""
        with self.store.transaction() as uow:
            operator = uow.operators.by_username(username)
        if operator is None or not operator.active:
            # Hash anyway so that timing does not reveal which usernames exist.
            self.hasher.verify(self.hasher.hash("not-a-real-password"), password)
            raise _unauthenticated()
        if not self.hasher.verify(operator.password_hash, password):
            raise _unauthenticated()
        return actor_of(operator)

    def issue_token(self, username: str, password: str) -> tuple[str, int]:
        """A new bearer token and its validity in seconds."""
        self.authenticate(username, password)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.store.transaction() as uow:
            operator = uow.operators.by_username(username)
            assert operator is not None
            uow.operators.insert_token(
                _token_digest(token), operator.id, now, now + timedelta(seconds=TOKEN_VALIDITY_S)
            )
        return token, TOKEN_VALIDITY_S

    def revoke_token(self, token: str) -> None:
        """End a token's validity now (console logout); an unknown token is ignored."""
        with self.store.transaction() as uow:
            uow.operators.delete_token(_token_digest(token))

    def session_secret(self) -> str:
        """The key that signs console session cookies: made at first start, then kept."""
        with self.store.transaction() as uow:
            secret = uow.settings.get(SESSION_SECRET_KEY)
            if secret is None:
                secret = secrets.token_urlsafe(SESSION_SECRET_BYTES)
                uow.settings.put(SESSION_SECRET_KEY, secret)
            return secret

    def actor_for_token(self, token: str) -> Actor:
        with self.store.transaction() as uow:
            operator = uow.operators.operator_for_token(_token_digest(token), self.clock.now())
        if operator is None or not operator.active:
            raise _unauthenticated()
        return actor_of(operator)

    def edr_auditing(self, actor: Actor) -> bool:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return edr_auditing_enabled(uow)

    def set_edr_auditing(self, actor: Actor, enabled: bool) -> None:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            # Audited under the rule in force before the change: switching off needs a reason.
            detail: dict[str, object] = {"edr_auditing": enabled}
            record_change(
                uow, actor, self.clock.now(), "update", "setting", EDR_AUDITING_KEY, detail
            )
            uow.settings.put(EDR_AUDITING_KEY, "true" if enabled else "false")

    def audit_trail(self, actor: Actor, entity: str | None, limit: int) -> list[AuditEntry]:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            return uow.audit.recent(entity, max(1, min(limit, AUDIT_ROWS_MAX)))


def _existing(uow: UnitOfWork, username: str) -> OperatorRecord:
    current = uow.operators.by_username(username)
    if current is None:
        raise not_found("operator", username)
    return current


def _check_providers(uow: UnitOfWork, service_providers: frozenset[str] | None) -> None:
    for provider in sorted(service_providers or ()):
        if uow.config.get(ConfigKind.SERVICE_PROVIDER, provider) is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"service provider {provider!r} does not exist",
                "service_providers",
            )


def _unauthenticated() -> DomainError:
    return DomainError(ProblemKind.UNAUTHENTICATED, "wrong username or password")
