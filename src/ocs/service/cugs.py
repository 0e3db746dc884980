"""Use cases for closed user groups: the groups, their members by MSISDN, their virtual
members, and membership seen from the subscriber's side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ocs.core.casm import SEARCH_ROWS_MAX
from ocs.core.configuration import ConfigKind
from ocs.core.cug import (
    CUG_GROUPS_PER_SUBSCRIBER_MAX,
    CUG_MEMBERS_MAX,
    ClosedUserGroup,
    VirtualMember,
    check_cug_name,
    check_member_numbers,
    check_virtual_member,
    check_virtual_members,
)
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.numbers import check_distinct
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.feature_access import (
    FeatureService,
    config_reference,
    locked_provider,
    locked_subscriber,
    visible_provider,
    visible_subscriber,
)
from ocs.service.ports import UnitOfWork


@dataclass(frozen=True)
class VirtualMemberInput:
    kind: str
    number: str
    last_number: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class CugInput:
    tariff_plan: str
    members: tuple[str, ...] = ()
    virtual_members: tuple[VirtualMemberInput, ...] = ()
    # Set on creation; on update it may only repeat the current name.
    name: str | None = None
    service_provider: str | None = None


class CugService(FeatureService):
    def create(self, actor: Actor, inp: CugInput) -> ClosedUserGroup:
        actor.require(Privilege.CREATE_DELETE)
        name = check_cug_name(inp.name)
        virtual = _virtual_members(inp.virtual_members)
        members = check_member_numbers(inp.members)
        if inp.service_provider is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD, "service_provider is required", "service_provider"
            )
        with self.store.transaction() as uow:
            provider = locked_provider(uow, actor, inp.service_provider)
            config_reference(uow, ConfigKind.TARIFF_PLAN, inp.tariff_plan, "tariff_plan")
            if uow.features.cug_id_by_name(provider, name) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE,
                    f"closed user group {name!r} already exists in {provider!r}",
                    "name",
                )
            cug_id = uow.features.insert_cug(provider, name, inp.tariff_plan)
            uow.features.put_cug_members(cug_id, _member_ids(uow, provider, members))
            uow.features.put_virtual_members(cug_id, virtual)
            return self._audited(uow, actor, "create", cug_id)

    def get(self, actor: Actor, cug_id: int) -> ClosedUserGroup:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _visible_cug(uow, actor, cug_id)

    def search(
        self,
        actor: Actor,
        service_provider: str | None = None,
        name: str = "",
        msisdn: str | None = None,
    ) -> list[ClosedUserGroup]:
        """At most 100 groups whose name starts with `name` (any case) and, if given, that
        have `msisdn` as a member."""
        actor.require(Privilege.READ)
        providers = actor.service_providers
        with self.store.transaction() as uow:
            if service_provider is not None:
                providers = frozenset({visible_provider(uow, actor, service_provider)})
            member = msisdn.strip() if msisdn else None
            return uow.features.search_cugs(providers, name.strip(), member, SEARCH_ROWS_MAX)

    def update(self, actor: Actor, cug_id: int, inp: CugInput) -> ClosedUserGroup:
        """Whole update of tariff plan, members and virtual members; the name is fixed."""
        actor.require(Privilege.MODIFY)
        virtual = _virtual_members(inp.virtual_members)
        members = check_member_numbers(inp.members)
        with self.store.transaction() as uow:
            current = _visible_cug(uow, actor, cug_id)
            if inp.name is not None and inp.name.strip() != current.name:
                raise DomainError(
                    ProblemKind.IMMUTABLE_FIELD,
                    "a closed user group keeps the name it was created with",
                    "name",
                )
            if inp.service_provider not in (None, current.service_provider):
                raise DomainError(
                    ProblemKind.IMMUTABLE_FIELD,
                    "a closed user group stays with its service provider",
                    "service_provider",
                )
            config_reference(uow, ConfigKind.TARIFF_PLAN, inp.tariff_plan, "tariff_plan")
            uow.features.update_cug_tariff_plan(cug_id, inp.tariff_plan)
            member_ids = _member_ids(uow, current.service_provider, members)
            uow.features.put_cug_members(cug_id, member_ids)
            uow.features.put_virtual_members(cug_id, virtual)
            return self._audited(uow, actor, "update", cug_id)

    def delete(self, actor: Actor, cug_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            group = _visible_cug(uow, actor, cug_id)
            uow.features.delete_cug(cug_id)
            self._audit(uow, actor, "delete", "closed-user-group", cug_id, {"name": group.name})

    # -- membership from the subscriber's side -------------------------------------------------

    def groups_of_subscriber(self, actor: Actor, subscriber_id: int) -> list[ClosedUserGroup]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.cugs_of_subscriber(subscriber_id)

    def set_groups_of_subscriber(
        self, actor: Actor, subscriber_id: int, cug_ids: Sequence[int]
    ) -> list[ClosedUserGroup]:
        """Make the subscriber a member of exactly these groups of its service provider."""
        actor.require(Privilege.MODIFY)
        if len(cug_ids) > CUG_GROUPS_PER_SUBSCRIBER_MAX:
            raise invalid(
                "closed_user_groups",
                f"a subscriber is in at most {CUG_GROUPS_PER_SUBSCRIBER_MAX} closed user groups",
            )
        check_distinct([str(i) for i in cug_ids], "closed_user_groups")
        with self.store.transaction() as uow:
            subscriber = locked_subscriber(uow, actor, subscriber_id)
            before = {g.id for g in uow.features.cugs_of_subscriber(subscriber_id)}
            for cug_id in cug_ids:
                group = uow.features.get_cug(cug_id)
                if group is None or group.service_provider != subscriber.service_provider:
                    raise DomainError(
                        ProblemKind.UNKNOWN_REFERENCE,
                        f"closed user group {cug_id} does not exist in "
                        f"{subscriber.service_provider!r}",
                        "closed_user_groups",
                    )
                if cug_id not in before and len(group.members) >= CUG_MEMBERS_MAX:
                    raise DomainError(
                        ProblemKind.CONFLICT,
                        f"closed user group {group.name!r} is full ({CUG_MEMBERS_MAX} members)",
                        "closed_user_groups",
                    )
            uow.features.put_subscriber_cugs(subscriber_id, cug_ids)
            detail = {"closed_user_groups": sorted(cug_ids)}
            self._audit(uow, actor, "update", "subscriber-cugs", subscriber_id, detail)
            return uow.features.cugs_of_subscriber(subscriber_id)

    def _audited(self, uow: UnitOfWork, actor: Actor, action: str, cug_id: int) -> ClosedUserGroup:
        group = uow.features.get_cug(cug_id)
        assert group is not None
        self._audit(uow, actor, action, "closed-user-group", cug_id, asdict(group))
        return group


def _virtual_members(inputs: Sequence[VirtualMemberInput]) -> tuple[VirtualMember, ...]:
    return check_virtual_members(
        [check_virtual_member(v.kind, v.number, v.last_number, v.length) for v in inputs]
    )


def _member_ids(uow: UnitOfWork, provider: str, msisdns: Sequence[str]) -> list[int]:
    """Members are subscribers of the group's own service provider, named by MSISDN."""
    found = uow.features.subscriber_ids_by_msisdn(provider, msisdns)
    for msisdn in msisdns:
        if msisdn not in found:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"members: no subscriber of {provider!r} has MSISDN {msisdn!r}",
                "members",
            )
    return [found[m] for m in msisdns]


def _visible_cug(uow: UnitOfWork, actor: Actor, cug_id: int) -> ClosedUserGroup:
    group = uow.features.get_cug(cug_id)
    if group is None or not actor.may_use_provider(group.service_provider):
        raise not_found("closed user group", cug_id)
    return group
