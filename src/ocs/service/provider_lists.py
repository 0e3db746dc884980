"""Use cases for a service provider's F&F black list, F&D black list and F&D prefix map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.friends import (
    BLACKLIST_ENTRIES_MAX,
    PREFIX_MAP_ENTRIES_MAX,
    BlacklistKind,
    PrefixMapEntry,
    check_blacklist,
    check_prefix_map_entry,
)
from ocs.core.numbers import check_number
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.feature_access import FeatureService, locked_provider, visible_provider
from ocs.service.ports import UnitOfWork


class ProviderListService(FeatureService):
    def get_blacklist(self, actor: Actor, kind: BlacklistKind, provider: str) -> list[str]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_provider(uow, actor, provider)
            return uow.features.get_blacklist(kind, provider)

    def set_blacklist(
        self, actor: Actor, kind: BlacklistKind, provider: str, entries: Sequence[str]
    ) -> list[str]:
        """Replace the whole list."""
        actor.require(Privilege.MODIFY)
        checked = check_blacklist(entries)
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            return self._put(uow, actor, kind, provider, checked)

    def add_to_blacklist(
        self, actor: Actor, kind: BlacklistKind, provider: str, number: str
    ) -> list[str]:
        actor.require(Privilege.MODIFY)
        entry = check_number(number, "number")
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            current = uow.features.get_blacklist(kind, provider)
            if entry in current:
                raise DomainError(
                    ProblemKind.DUPLICATE, f"{entry!r} is already on the {kind.value}", "number"
                )
            if len(current) >= BLACKLIST_ENTRIES_MAX:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"the {kind.value} of {provider!r} is full "
                    f"({BLACKLIST_ENTRIES_MAX} entries); remove one first",
                    "number",
                )
            return self._put(uow, actor, kind, provider, sorted([*current, entry]))

    def remove_from_blacklist(
        self, actor: Actor, kind: BlacklistKind, provider: str, number: str
    ) -> list[str]:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            current = uow.features.get_blacklist(kind, provider)
            if number not in current:
                raise not_found(f"{kind.value} entry", number)
            return self._put(uow, actor, kind, provider, [n for n in current if n != number])

    def _put(
        self,
        uow: UnitOfWork,
        actor: Actor,
        kind: BlacklistKind,
        provider: str,
        entries: Sequence[str],
    ) -> list[str]:
        uow.features.put_blacklist(kind, provider, entries)
        self._audit(uow, actor, "update", kind.value, provider, {"numbers": list(entries)})
        return list(entries)

    # -- F&D prefix map ------------------------------------------------------------------------

    def get_prefix_map(self, actor: Actor, provider: str) -> list[PrefixMapEntry]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            return uow.features.get_prefix_map(provider)

    def put_prefix_mapping(
        self,
        actor: Actor,
        provider: str,
        prefix: str,
        announcement_set: str,
        announcement_entry: str,
    ) -> PrefixMapEntry:
        """Add a mapping, or change the announcement of an existing prefix."""
        actor.require(Privilege.MODIFY)
        entry = check_prefix_map_entry(prefix, announcement_set, announcement_entry)
        with self.store.transaction() as uow:
            visible_provider(uow, actor, provider)
            current = uow.features.get_prefix_map(provider)
            is_new = entry.prefix not in {e.prefix for e in current}
            if is_new and len(current) >= PREFIX_MAP_ENTRIES_MAX:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"the F&D prefix map of {provider!r} is full ({PREFIX_MAP_ENTRIES_MAX} "
                    "prefixes); remove one first",
                    "prefix",
                )
            uow.features.put_prefix_map_entry(provider, entry)
            action = "create" if is_new else "update"
            self._audit(uow, actor, action, "fd-prefix-map", provider, asdict(entry))
            return entry

    def delete_prefix_mapping(self, actor: Actor, provider: str, prefix: str) -> None:
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            if prefix not in {e.prefix for e in uow.features.get_prefix_map(provider)}:
                raise not_found("F&D prefix mapping", prefix)
            users = uow.features.count_fd_prefix_users(provider, prefix)
            if users:
                raise DomainError(
                    ProblemKind.IN_USE,
                    f"prefix {prefix!r} is the F&D discount prefix of {users} subscriber(s)",
                    "prefix",
                )
            uow.features.delete_prefix_map_entry(provider, prefix)
            self._audit(uow, actor, "delete", "fd-prefix-map", provider, {"prefix": prefix})
