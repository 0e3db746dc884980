"""Who is acting: the operator's identity, privileges, service providers and change reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import Privilege, check_change_reason
from ocs.service.ports import AuditEntry, UnitOfWork

EDR_AUDITING_KEY = "edr_auditing"


@dataclass(frozen=True)
class Actor:
    username: str
    privileges: frozenset[Privilege]
    # None means every service provider.
    service_providers: frozenset[str] | None = None
    change_reason: str | None = None

    def with_reason(self, reason: str | None) -> Actor:
        return replace(self, change_reason=reason)

    def require(self, privilege: Privilege) -> None:
        if privilege not in self.privileges and Privilege.ADMIN not in self.privileges:
            raise DomainError(
                ProblemKind.FORBIDDEN,
                f"operator {self.username!r} lacks the {privilege.value!r} privilege",
            )

    def may_use_provider(self, provider: str) -> bool:
        return self.service_providers is None or provider in self.service_providers

    def require_provider(self, provider: str, field: str = "service_provider") -> None:
        if not self.may_use_provider(provider):
            raise DomainError(
                ProblemKind.FORBIDDEN,
                f"operator {self.username!r} may not work on service provider {provider!r}",
                field,
            )


SYSTEM_ACTOR = Actor("system", frozenset(Privilege))


def edr_auditing_enabled(uow: UnitOfWork) -> bool:
    return uow.settings.get(EDR_AUDITING_KEY) == "true"


def record_change(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    action: str,
    entity: str,
    entity_key: object,
    detail: Mapping[str, object],
) -> None:
    """Append the audit entry for a change; refuses (rolling back) without a required reason."""
    reason = check_change_reason(actor.change_reason, edr_auditing_enabled(uow))
    uow.audit.append(
        AuditEntry(
            at=now,
            operator=actor.username,
            action=action,
            entity=entity,
            entity_key=str(entity_key),
            change_reason=reason,
            detail=detail,
        )
    )
