"""Use cases for profile group fields: a service provider's profile tag groups and fields,
and each subscriber's values for them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.profiles import (
    DISPLAY_NAME_LENGTH_MAX,
    FIELDS_PER_GROUP_MAX,
    GROUP_NAME_LENGTH_MAX,
    GROUPS_PER_PROVIDER_MAX,
    TAG_NAME_LENGTH_MAX,
    ProfileField,
    ProfileGroup,
    ProfileTagType,
    check_limit,
    check_name,
    check_order,
    check_permission_name,
    check_profile_value,
    check_zone_value,
    field_permission_name,
    group_permission_name,
    parse_tag_type,
)
from ocs.core.security import Privilege
from ocs.core.zones import Zone, shape_view
from ocs.service.actor import Actor
from ocs.service.feature_access import (
    FeatureService,
    locked_provider,
    locked_subscriber,
    visible_provider,
    visible_subscriber,
)
from ocs.service.ports import UnitOfWork
from ocs.service.zones import replace_zone_shapes


@dataclass(frozen=True)
class FieldInput:
    display_name: str
    tag_name: str
    tag_type: str
    group_order: int
    sub_order: int
    permission_name: str | None = None  # None: auto-populated
    limit: int | None = None


@dataclass(frozen=True)
class ProfileEntry:
    """One field of a subscriber's profile with its value (None when not set)."""

    field: ProfileField
    value: object


class ProfileService(FeatureService):
    # -- groups --------------------------------------------------------------------------------

    def create_group(
        self, actor: Actor, provider: str, name: str, permission_name: str | None = None
    ) -> ProfileGroup:
        """A new group; without a permission name it gets <service provider>-<group>."""
        actor.require(Privilege.CREATE_DELETE)
        group_name = check_name(name, "name", GROUP_NAME_LENGTH_MAX)
        with self.store.transaction() as uow:
            locked_provider(uow, actor, provider)
            groups = uow.features.list_groups(provider)
            if len(groups) >= GROUPS_PER_PROVIDER_MAX:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"{provider!r} already has {GROUPS_PER_PROVIDER_MAX} profile groups",
                    "name",
                )
            _check_group_name_free(groups, group_name, None)
            permission = (
                group_permission_name(provider, group_name)
                if permission_name is None
                else check_permission_name(permission_name)
            )
            group = ProfileGroup(0, provider, group_name, permission)
            group = replace(group, id=uow.features.insert_group(group))
            self._audit(uow, actor, "create", "profile-group", group.id, asdict(group))
            return group

    def list_groups(self, actor: Actor, provider: str) -> list[ProfileGroup]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_provider(uow, actor, provider)
            return uow.features.list_groups(provider)

    def get_group(self, actor: Actor, group_id: int) -> ProfileGroup:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _group(uow, actor, group_id)

    def list_fields(self, actor: Actor, group_id: int) -> list[ProfileField]:
        """The group's fields in display order (group order, then sub order)."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            group = _group(uow, actor, group_id)
            fields = uow.features.list_fields(group.service_provider)
            return [f for f in fields if f.group_id == group_id]

    def rename_group(self, actor: Actor, group_id: int, name: str) -> ProfileGroup:
        """The permission name stays as it was created."""
        actor.require(Privilege.MODIFY)
        group_name = check_name(name, "name", GROUP_NAME_LENGTH_MAX)
        with self.store.transaction() as uow:
            current = _group(uow, actor, group_id)
            groups = uow.features.list_groups(current.service_provider)
            _check_group_name_free(groups, group_name, group_id)
            group = replace(current, name=group_name)
            uow.features.update_group(group)
            self._audit(uow, actor, "update", "profile-group", group_id, {"name": group_name})
            return group

    def delete_group(self, actor: Actor, group_id: int) -> None:
        """Delete the group with all its fields and their values."""
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            group = _group(uow, actor, group_id)
            uow.features.delete_group(group_id)
            self._audit(uow, actor, "delete", "profile-group", group_id, {"name": group.name})

    # -- fields --------------------------------------------------------------------------------

    def add_field(self, actor: Actor, group_id: int, inp: FieldInput) -> ProfileField:
        actor.require(Privilege.CREATE_DELETE)
        tag_type = parse_tag_type(inp.tag_type)
        display = check_name(inp.display_name, "display_name", DISPLAY_NAME_LENGTH_MAX)
        with self.store.transaction() as uow:
            group = _group(uow, actor, group_id)
            uow.features.lock_provider(group.service_provider)
            permission = (
                field_permission_name(group.service_provider, group.name, display)
                if inp.permission_name is None
                else check_permission_name(inp.permission_name)
            )
            field = ProfileField(
                id=0,
                group_id=group_id,
                service_provider=group.service_provider,
                display_name=display,
                tag_name=check_name(inp.tag_name, "tag_name", TAG_NAME_LENGTH_MAX),
                tag_type=tag_type,
                group_order=check_order(inp.group_order, "group_order"),
                sub_order=check_order(inp.sub_order, "sub_order"),
                permission_name=permission,
                limit=check_limit(tag_type, inp.limit),
            )
            others = uow.features.list_fields(group.service_provider)
            if sum(f.group_id == group_id for f in others) >= FIELDS_PER_GROUP_MAX:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"profile group {group.name!r} already has {FIELDS_PER_GROUP_MAX} fields",
                    "display_name",
                )
            _check_field_free(others, field)
            field = replace(field, id=uow.features.insert_field(field))
            self._audit(uow, actor, "create", "profile-field", field.id, asdict(field))
            return field

    def update_field(
        self,
        actor: Actor,
        field_id: int,
        display_name: str,
        group_order: int,
        sub_order: int,
    ) -> ProfileField:
        """Display name and position change; tag, type and permission name stay."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = _field(uow, actor, field_id)
            field = replace(
                current,
                display_name=check_name(display_name, "display_name", DISPLAY_NAME_LENGTH_MAX),
                group_order=check_order(group_order, "group_order"),
                sub_order=check_order(sub_order, "sub_order"),
            )
            _check_field_free(uow.features.list_fields(current.service_provider), field)
            uow.features.update_field(field)
            changed = {k: v for k, v in asdict(field).items() if asdict(current)[k] != v}
            self._audit(uow, actor, "update", "profile-field", field_id, changed)
            return field

    def delete_field(self, actor: Actor, field_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            field = _field(uow, actor, field_id)
            uow.features.delete_field(field_id)
            detail = {"tag_name": field.tag_name}
            self._audit(uow, actor, "delete", "profile-field", field_id, detail)

    # -- subscriber values ---------------------------------------------------------------------

    def subscriber_profile(self, actor: Actor, subscriber_id: int) -> list[ProfileEntry]:
        """Every field of the subscriber's service provider, in display order, with values."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            provider = visible_subscriber(uow, actor, subscriber_id).service_provider
            values = uow.features.get_profile_values(subscriber_id)
            zones = {z.name: z for z in uow.features.list_zones(subscriber_id)}
            return [
                ProfileEntry(f, _zone_value(zones.get(f.tag_name)))
                if f.tag_type is ProfileTagType.ZONE
                else ProfileEntry(f, values.get(f.id))
                for f in uow.features.list_fields(provider)
            ]

    def set_value(
        self, actor: Actor, subscriber_id: int, field_id: int, value: object
    ) -> ProfileEntry:
        """Give a field a value: creating one needs create/delete, changing one modify."""
        with self.store.transaction() as uow:
            field, current = self._field_and_value(uow, actor, subscriber_id, field_id)
            actor.require(Privilege.MODIFY if current is not None else Privilege.CREATE_DELETE)
            stored: object
            if field.tag_type is ProfileTagType.ZONE:
                shapes = check_zone_value(field, value)
                replace_zone_shapes(uow, subscriber_id, field.tag_name, shapes)
                stored = [shape_view(s) for s in shapes]
            else:
                checked = check_profile_value(field, value)
                stored = list(checked) if isinstance(checked, tuple) else checked
                uow.features.put_profile_value(subscriber_id, field_id, stored)
            detail = {"field": field_id, "tag_name": field.tag_name, "value": stored}
            self._audit(uow, actor, "update", "profile-value", subscriber_id, detail)
            return ProfileEntry(field, stored)

    def clear_value(self, actor: Actor, subscriber_id: int, field_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            field, current = self._field_and_value(uow, actor, subscriber_id, field_id)
            if current is None:
                raise not_found(f"value of {field.tag_name!r} for subscriber", subscriber_id)
            if field.tag_type is ProfileTagType.ZONE:
                replace_zone_shapes(uow, subscriber_id, field.tag_name, [])
            else:
                uow.features.delete_profile_value(subscriber_id, field_id)
            detail = {"field": field_id, "tag_name": field.tag_name}
            self._audit(uow, actor, "delete", "profile-value", subscriber_id, detail)

    def _field_and_value(
        self, uow: UnitOfWork, actor: Actor, subscriber_id: int, field_id: int
    ) -> tuple[ProfileField, object]:
        subscriber = locked_subscriber(uow, actor, subscriber_id)
        field = uow.features.get_field(field_id)
        if field is None or field.service_provider != subscriber.service_provider:
            raise not_found("profile field", field_id)
        if field.tag_type is ProfileTagType.ZONE:
            zones = uow.features.list_zones(subscriber_id)
            return field, _zone_value(next((z for z in zones if z.name == field.tag_name), None))
        return field, uow.features.get_profile_values(subscriber_id).get(field_id)


def _zone_value(zone: Zone | None) -> list[dict[str, str]] | None:
    return None if zone is None else [shape_view(s.shape) for s in zone.shapes]


def _check_group_name_free(groups: list[ProfileGroup], name: str, group_id: int | None) -> None:
    if any(g.name == name and g.id != group_id for g in groups):
        raise DomainError(ProblemKind.DUPLICATE, f"profile group {name!r} already exists", "name")


def _check_field_free(fields: list[ProfileField], field: ProfileField) -> None:
    for other in fields:
        if other.id == field.id:
            continue
        if other.tag_name == field.tag_name:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"profile tag {field.tag_name!r} already has a field (id {other.id})",
                "tag_name",
            )
        if other.group_id != field.group_id:
            continue
        if other.display_name == field.display_name:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"the group already has a field named {field.display_name!r}",
                "display_name",
            )
        if (other.group_order, other.sub_order) == (field.group_order, field.sub_order):
            raise DomainError(
                ProblemKind.CONFLICT,
                f"field {other.display_name!r} already sits at group order "
                f"{field.group_order}, sub order {field.sub_order}",
                "sub_order",
            )


def _group(uow: UnitOfWork, actor: Actor, group_id: int) -> ProfileGroup:
    group = uow.features.get_group(group_id)
    if group is None or not actor.may_use_provider(group.service_provider):
        raise not_found("profile group", group_id)
    return group


def _field(uow: UnitOfWork, actor: Actor, field_id: int) -> ProfileField:
    field = uow.features.get_field(field_id)
    if field is None or not actor.may_use_provider(field.service_provider):
        raise not_found("profile field", field_id)
    return field
