"""What every subscriber feature use case shares: finding what the operator may see, and
auditing each change through `record_change` (so the change reason rule applies)."""

from __future__ import annotations

from collections.abc import Mapping

from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind, Record
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.service.actor import Actor, record_change
from ocs.service.ports import Clock, Store, UnitOfWork


class FeatureService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: str,
        entity: str,
        key: object,
        detail: Mapping[str, object],
    ) -> None:
        record_change(uow, actor, self.clock.now(), action, entity, key, detail)


def visible_subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber:
    """The subscriber, if it exists within the operator's service providers."""
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
        raise not_found("subscriber", subscriber_id)
    return subscriber


def visible_provider(uow: UnitOfWork, actor: Actor, provider: str) -> str:
    """A service provider the operator may work on; others look like they do not exist."""
    if not actor.may_use_provider(provider) or (
        uow.config.get(ConfigKind.SERVICE_PROVIDER, provider) is None
    ):
        raise not_found("service provider", provider)
    return provider


def locked_subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber:
    """A visible subscriber whose features this unit of work is about to change. (SQLite
    already serialises writers; PostgreSQL needs the row lock for the limits to hold.)"""
    subscriber = visible_subscriber(uow, actor, subscriber_id)
    uow.features.lock_subscriber(subscriber_id)
    return subscriber


def locked_provider(uow: UnitOfWork, actor: Actor, provider: str) -> str:
    """A visible service provider whose lists, groups or fields are about to change."""
    visible_provider(uow, actor, provider)
    uow.features.lock_provider(provider)
    return provider


def config_reference(uow: UnitOfWork, kind: ConfigKind, code: str, field: str) -> Record:
    record = uow.config.get(kind, code)
    if record is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE, f"{field} {code!r} does not exist ({kind.value})", field
        )
    return record
