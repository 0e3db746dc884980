"""Use cases for integration configuration: create, read, list, update, delete."""

from __future__ import annotations

from collections.abc import Mapping

from ocs.core.configuration import (
    SPECS,
    STATE_REASON_PAIRS,
    ConfigKind,
    Record,
    validate_new,
    validate_update,
)
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege
from ocs.service.actor import Actor, record_change
from ocs.service.ports import Clock, Store, UnitOfWork


class ConfigurationService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create(self, actor: Actor, kind: ConfigKind, payload: Mapping[str, object]) -> Record:
        actor.require(
            Privilege.ADMIN if kind is ConfigKind.SERVICE_PROVIDER else Privilege.CREATE_DELETE
        )
        spec = SPECS[kind]
        record = validate_new(spec, payload)
        with self.store.transaction() as uow:
            if uow.config.get(kind, str(record["code"])) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"{spec.label} with code {record['code']!r} already exists",
                    "code",
                )
            self._check_relations(uow, actor, kind, record)
            uow.config.insert(kind, record)
            record_change(
                uow, actor, self.clock.now(), "create", kind.value, record["code"], record
            )
        return record

    def get(self, actor: Actor, kind: ConfigKind, code: str) -> Record:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return self._visible(uow, actor, kind, code)

    def list_records(self, actor: Actor, kind: ConfigKind) -> list[Record]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.config.list_records(kind, actor.service_providers)

    def update(
        self, actor: Actor, kind: ConfigKind, code: str, payload: Mapping[str, object]
    ) -> Record:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = self._visible(uow, actor, kind, code)
            record = validate_update(SPECS[kind], current, payload)
            self._check_relations(uow, actor, kind, record)
            uow.config.update(kind, record)
            changed = {k: v for k, v in record.items() if current.get(k) != v}
            record_change(uow, actor, self.clock.now(), "update", kind.value, code, changed)
        return record

    def delete(self, actor: Actor, kind: ConfigKind, code: str) -> None:
        actor.require(
            Privilege.ADMIN if kind is ConfigKind.SERVICE_PROVIDER else Privilege.CREATE_DELETE
        )
        with self.store.transaction() as uow:
            self._visible(uow, actor, kind, code)
            user = uow.config.referenced_by(kind, code)
            if user is not None:
                raise DomainError(
                    ProblemKind.IN_USE,
                    f"{SPECS[kind].label} {code!r} is still used by {user}; remove that first",
                )
            uow.config.delete(kind, code)
            record_change(uow, actor, self.clock.now(), "delete", kind.value, code, {})

    def _visible(self, uow: UnitOfWork, actor: Actor, kind: ConfigKind, code: str) -> Record:
        record = uow.config.get(kind, code)
        provider = _provider_of(kind, record)
        if record is None or (provider is not None and not actor.may_use_provider(provider)):
            raise not_found(SPECS[kind].label, code)
        return record

    def _check_relations(
        self, uow: UnitOfWork, actor: Actor, kind: ConfigKind, record: Record
    ) -> None:
        """Rules that need other records: references, one primary, reason states, trees."""
        for f in SPECS[kind].references:
            value = record[f.name]
            if value is None:
                continue
            assert f.ref is not None
            if uow.config.get(f.ref, str(value)) is None:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"{f.name} {value!r} does not exist ({f.ref.value})",
                    f.name,
                )
        provider = _provider_of(kind, record)
        if provider is not None:
            actor.require_provider(provider)
        if kind is ConfigKind.RESOURCE_TYPE and record["primary"]:
            others = [
                c for c in uow.config.codes_where(kind, "primary", True) if c != record["code"]
            ]
            if others:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"resource type {others[0]!r} is already primary; only one may be",
                    "primary",
                )
        if kind is ConfigKind.RATING_GROUP:
            _check_rating_group_unique(uow, record)
        if kind in STATE_REASON_PAIRS:
            check_reason_state(uow, *STATE_REASON_PAIRS[kind], record)
        if kind is ConfigKind.CHARGING_CLASS:
            _check_no_cycle(uow, str(record["code"]), record["parent"])


def _provider_of(kind: ConfigKind, record: Record | None) -> str | None:
    if record is None:
        return None
    if kind is ConfigKind.SERVICE_PROVIDER:
        return str(record["code"])
    value = record.get("service_provider")
    return None if value is None else str(value)


def check_reason_state(
    uow: UnitOfWork, state_field: str, reason_field: str, record: Mapping[str, object]
) -> None:
    """A state reason must be configured for the state it is given with."""
    reason_code = record.get(reason_field)
    if reason_code is None:
        return
    reason = uow.config.get(ConfigKind.STATE_REASON, str(reason_code))
    if reason is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"{reason_field} {reason_code!r} does not exist (state-reasons)",
            reason_field,
        )
    state = record.get(state_field)
    if reason["state"] != state:
        raise DomainError(
            ProblemKind.STATE_REASON_MISMATCH,
            f"state reason {reason_code!r} is for state {reason['state']}, not {state}",
            reason_field,
        )


def _check_no_cycle(uow: UnitOfWork, code: str, parent: object) -> None:
    seen = {code}
    while parent is not None:
        if parent in seen:
            raise DomainError(
                ProblemKind.INVALID_VALUE,
                f"charging class {code!r} cannot be its own ancestor",
                "parent",
            )
        seen.add(str(parent))
        node = uow.config.get(ConfigKind.CHARGING_CLASS, str(parent))
        parent = None if node is None else node["parent"]


def _check_rating_group_unique(uow: UnitOfWork, record: Record) -> None:
    """A (rating group, service identifier) pair maps to exactly one charging class."""
    for code in uow.config.codes_where(
        ConfigKind.RATING_GROUP, "rating_group", record["rating_group"]
    ):
        other = uow.config.get(ConfigKind.RATING_GROUP, code)
        if code == record["code"] or other is None:
            continue
        if other["service_identifier"] == record["service_identifier"]:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"rating group {record['rating_group']} with service identifier "
                f"{record['service_identifier']} is already mapped by {code!r}",
                "rating_group",
            )
