"""SQL implementation of the subscriber feature port (see ocs.service.feature_ports)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from ocs.core.call_barring import BarringListType, CallBarring
from ocs.core.comments import Comment
from ocs.core.configuration import ConfigKind
from ocs.core.cug import ClosedUserGroup, VirtualMember, VirtualMemberKind
from ocs.core.friends import BlacklistKind, Friends, FriendsService, PrefixMapEntry
from ocs.core.number_translation import ShortCode, TranslationScope
from ocs.core.profiles import ProfileField, ProfileGroup, ProfileTagType
from ocs.core.subscriber_details import SubscriberDetails
from ocs.core.zones import Circle, Rectangle, Shape, ShapeKind, Zone, ZoneShape
from ocs.service.feature_ports import StoredDetails
from ocs.storage import tables as t

DETAIL_FLAGS = (
    "subscriber_id_restricted",
    "incoming_calls_disabled_when_roaming",
    "blacklisted",
    "sms_notifications_disabled",
    "remote_access_allowed",
)


class SqlFeatureRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, table: Table, values: Mapping[str, Any]) -> int:
        result = self.conn.execute(insert(table).values(**values).returning(table.c.id))
        return int(result.scalar_one())

    def _insert_many(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(table), list(rows))

    def lock_subscriber(self, subscriber_id: int) -> None:
        s = t.subscribers.c
        self.conn.execute(select(s.id).where(s.id == subscriber_id).with_for_update())

    def lock_provider(self, provider: str) -> None:
        table = t.config_tables[ConfigKind.SERVICE_PROVIDER]
        query = select(table.c.code).where(table.c.code == provider).with_for_update()
        self.conn.execute(query)

    # -- subscriber details --------------------------------------------------------------------

    def get_details(self, subscriber_id: int) -> StoredDetails:
        c = t.subscribers.c
        columns = [c.description, c.pin_hash, c.pin_failures, *(c[n] for n in DETAIL_FLAGS)]
        row = self.conn.execute(select(*columns).where(c.id == subscriber_id)).one()
        m = row._mapping
        flags = {name: bool(m[name]) for name in DETAIL_FLAGS}
        details = SubscriberDetails(
            description=m["description"], pin_defined=m["pin_hash"] is not None, **flags
        )
        return StoredDetails(details, m["pin_hash"], int(m["pin_failures"]))

    def put_details(
        self, subscriber_id: int, details: SubscriberDetails, pin_hash: str | None
    ) -> None:
        values: dict[str, Any] = {name: getattr(details, name) for name in DETAIL_FLAGS}
        values.update(description=details.description, pin_hash=pin_hash)
        where = t.subscribers.c.id == subscriber_id
        self.conn.execute(update(t.subscribers).where(where).values(**values))

    def set_pin_failures(self, subscriber_id: int, failures: int) -> None:
        where = t.subscribers.c.id == subscriber_id
        self.conn.execute(update(t.subscribers).where(where).values(pin_failures=failures))

    # -- call barring --------------------------------------------------------------------------

    def get_call_barring(self, subscriber_id: int) -> CallBarring | None:
        c = t.call_barring.c
        row = self.conn.execute(select(t.call_barring).where(c.subscriber_id == subscriber_id))
        head = row.first()
        if head is None:
            return None
        n = t.call_barring_numbers.c
        numbers = self.conn.scalars(
            select(n.number).where(n.subscriber_id == subscriber_id).order_by(n.number)
        )
        return CallBarring(
            BarringListType(head._mapping["list_type"]),
            bool(head._mapping["ignore_list"]),
            tuple(numbers),
        )

    def put_call_barring(self, subscriber_id: int, barring: CallBarring) -> None:
        for table in (t.call_barring_numbers, t.call_barring):
            self.conn.execute(delete(table).where(table.c.subscriber_id == subscriber_id))
        self.conn.execute(
            insert(t.call_barring).values(
                subscriber_id=subscriber_id,
                list_type=barring.list_type.value,
                ignore_list=barring.ignore,
            )
        )
        rows = [{"subscriber_id": subscriber_id, "number": n} for n in barring.numbers]
        self._insert_many(t.call_barring_numbers, rows)

    # -- friends and family --------------------------------------------------------------------

    def get_friends(self, subscriber_id: int) -> Friends | None:
        c = t.friends.c
        row = self.conn.execute(select(t.friends).where(c.subscriber_id == subscriber_id)).first()
        if row is None:
            return None
        m = row._mapping
        n = t.ff_numbers.c
        numbers = self.conn.scalars(
            select(n.number).where(n.subscriber_id == subscriber_id).order_by(n.number)
        )
        return Friends(
            active_service=FriendsService(m["active_service"]),
            fd_discount_prefix=m["fd_discount_prefix"],
            fd_change_count=m["fd_change_count"],
            fd_changed_at=m["fd_changed_at"],
            ff_change_count=m["ff_change_count"],
            ff_changed_at=m["ff_changed_at"],
            ff_numbers=tuple(numbers),
        )

    def put_friends(self, subscriber_id: int, friends: Friends) -> None:
        for table in (t.ff_numbers, t.friends):
            self.conn.execute(delete(table).where(table.c.subscriber_id == subscriber_id))
        self.conn.execute(
            insert(t.friends).values(
                subscriber_id=subscriber_id,
                active_service=friends.active_service.value,
                fd_discount_prefix=friends.fd_discount_prefix,
                fd_change_count=friends.fd_change_count,
                fd_changed_at=friends.fd_changed_at,
                ff_change_count=friends.ff_change_count,
                ff_changed_at=friends.ff_changed_at,
            )
        )
        rows = [{"subscriber_id": subscriber_id, "number": n} for n in friends.ff_numbers]
        self._insert_many(t.ff_numbers, rows)

    def count_fd_prefix_users(self, provider: str, prefix: str) -> int:
        f, s = t.friends.c, t.subscribers.c
        query = (
            select(func.count())
            .select_from(t.friends.join(t.subscribers, f.subscriber_id == s.id))
            .where(s.service_provider == provider, f.fd_discount_prefix == prefix)
        )
        return int(self.conn.scalar(query) or 0)

    # -- number translation --------------------------------------------------------------------

    def get_short_codes(self, scope: TranslationScope) -> list[ShortCode]:
        c = t.short_codes.c
        query = (
            select(c.short_code, c.number)
            .where(c.level == scope.level.value, c.owner == scope.owner)
            .order_by(c.short_code)
        )
        return [ShortCode(row.short_code, row.number) for row in self.conn.execute(query)]

    def put_short_codes(self, scope: TranslationScope, codes: Sequence[ShortCode]) -> None:
        c = t.short_codes.c
        self.conn.execute(
            delete(t.short_codes).where(c.level == scope.level.value, c.owner == scope.owner)
        )
        base = {
            "level": scope.level.value,
            "owner": scope.owner,
            "subscriber_id": scope.subscriber_id,
            "product_type": scope.product_type,
            "service_provider": scope.service_provider,
        }
        rows = [{**base, "short_code": code.short_code, "number": code.number} for code in codes]
        self._insert_many(t.short_codes, rows)

    # -- service provider lists ----------------------------------------------------------------

    def get_blacklist(self, kind: BlacklistKind, provider: str) -> list[str]:
        c = t.provider_blacklists.c
        query = (
            select(c.number)
            .where(c.service_provider == provider, c.list_kind == kind.value)
            .order_by(c.number)
        )
        return list(self.conn.scalars(query))

    def put_blacklist(self, kind: BlacklistKind, provider: str, entries: Sequence[str]) -> None:
        c = t.provider_blacklists.c
        where = (c.service_provider == provider) & (c.list_kind == kind.value)
        self.conn.execute(delete(t.provider_blacklists).where(where))
        rows = [
            {"service_provider": provider, "list_kind": kind.value, "number": number}
            for number in entries
        ]
        self._insert_many(t.provider_blacklists, rows)

    def get_prefix_map(self, provider: str) -> list[PrefixMapEntry]:
        c = t.fd_prefix_map.c
        query = (
            select(c.prefix, c.announcement_set, c.announcement_entry)
            .where(c.service_provider == provider)
            .order_by(c.prefix)
        )
        return [PrefixMapEntry(*row) for row in self.conn.execute(query)]

    def put_prefix_map_entry(self, provider: str, entry: PrefixMapEntry) -> None:
        self.delete_prefix_map_entry(provider, entry.prefix)
        self.conn.execute(
            insert(t.fd_prefix_map).values(
                service_provider=provider,
                prefix=entry.prefix,
                announcement_set=entry.announcement_set,
                announcement_entry=entry.announcement_entry,
            )
        )

    def delete_prefix_map_entry(self, provider: str, prefix: str) -> None:
        c = t.fd_prefix_map.c
        where = (c.service_provider == provider) & (c.prefix == prefix)
        self.conn.execute(delete(t.fd_prefix_map).where(where))

    # -- closed user groups --------------------------------------------------------------------

    def insert_cug(self, provider: str, name: str, tariff_plan: str) -> int:
        values = {"service_provider": provider, "name": name, "tariff_plan": tariff_plan}
        return self._insert(t.closed_user_groups, values)

    def update_cug_tariff_plan(self, cug_id: int, tariff_plan: str) -> None:
        where = t.closed_user_groups.c.id == cug_id
        self.conn.execute(update(t.closed_user_groups).where(where).values(tariff_plan=tariff_plan))

    def get_cug(self, cug_id: int) -> ClosedUserGroup | None:
        found = self._cugs(t.closed_user_groups.c.id == cug_id)
        return found[0] if found else None

    def cug_id_by_name(self, provider: str, name: str) -> int | None:
        c = t.closed_user_groups.c
        return self.conn.scalar(select(c.id).where(c.service_provider == provider, c.name == name))

    def search_cugs(
        self,
        providers: frozenset[str] | None,
        name_prefix: str,
        member_msisdn: str | None,
        limit: int,
    ) -> list[ClosedUserGroup]:
        c = t.closed_user_groups.c
        conditions: list[Any] = []
        if providers is not None:
            conditions.append(c.service_provider.in_(sorted(providers)))
        if name_prefix:
            conditions.append(func.lower(c.name).startswith(name_prefix.lower(), autoescape=True))
        if member_msisdn is not None:
            m, s = t.cug_members.c, t.subscribers.c
            members = (
                select(m.cug_id)
                .join(t.subscribers, m.subscriber_id == s.id)
                .where(s.subscriber_id == member_msisdn)
            )
            conditions.append(c.id.in_(members))
        return self._cugs(*conditions, limit=limit)

    def _cugs(self, *conditions: Any, limit: int | None = None) -> list[ClosedUserGroup]:
        c = t.closed_user_groups.c
        query = select(t.closed_user_groups).where(*conditions).order_by(c.name, c.id)
        heads = list(self.conn.execute(query.limit(limit)))
        ids = [row.id for row in heads]
        members = self._member_msisdns(ids)
        virtual = self._virtual_members(ids)
        return [
            ClosedUserGroup(
                id=row.id,
                service_provider=row.service_provider,
                name=row.name,
                tariff_plan=row.tariff_plan,
                members=tuple(members.get(row.id, ())),
                virtual_members=tuple(virtual.get(row.id, ())),
            )
            for row in heads
        ]

    def _member_msisdns(self, cug_ids: list[int]) -> dict[int, list[str]]:
        m, s = t.cug_members.c, t.subscribers.c
        query = (
            select(m.cug_id, s.subscriber_id)
            .join(t.subscribers, m.subscriber_id == s.id)
            .where(m.cug_id.in_(cug_ids))
            .order_by(s.subscriber_id)
        )
        found: dict[int, list[str]] = {}
        for cug_id, msisdn in self.conn.execute(query):
            found.setdefault(cug_id, []).append(msisdn)
        return found

    def _virtual_members(self, cug_ids: list[int]) -> dict[int, list[VirtualMember]]:
        v = t.cug_virtual_members.c
        query = select(t.cug_virtual_members).where(v.cug_id.in_(cug_ids)).order_by(v.id)
        found: dict[int, list[VirtualMember]] = {}
        for row in self.conn.execute(query):
            member = VirtualMember(
                VirtualMemberKind(row.kind), row.number, row.last_number, row.length
            )
            found.setdefault(row.cug_id, []).append(member)
        return found

    def delete_cug(self, cug_id: int) -> None:
        for table in (t.cug_members, t.cug_virtual_members):
            self.conn.execute(delete(table).where(table.c.cug_id == cug_id))
        self.conn.execute(delete(t.closed_user_groups).where(t.closed_user_groups.c.id == cug_id))

    def put_cug_members(self, cug_id: int, subscriber_ids: Sequence[int]) -> None:
        self.conn.execute(delete(t.cug_members).where(t.cug_members.c.cug_id == cug_id))
        rows = [{"cug_id": cug_id, "subscriber_id": s} for s in subscriber_ids]
        self._insert_many(t.cug_members, rows)

    def put_virtual_members(self, cug_id: int, members: Sequence[VirtualMember]) -> None:
        v = t.cug_virtual_members.c
        self.conn.execute(delete(t.cug_virtual_members).where(v.cug_id == cug_id))
        rows = [
            {
                "cug_id": cug_id,
                "kind": member.kind.value,
                "number": member.number,
                "last_number": member.last_number,
                "length": member.length,
            }
            for member in members
        ]
        self._insert_many(t.cug_virtual_members, rows)

    def cugs_of_subscriber(self, subscriber_id: int) -> list[ClosedUserGroup]:
        m = t.cug_members.c
        mine = select(m.cug_id).where(m.subscriber_id == subscriber_id)
        return self._cugs(t.closed_user_groups.c.id.in_(mine))

    def put_subscriber_cugs(self, subscriber_id: int, cug_ids: Sequence[int]) -> None:
        m = t.cug_members.c
        self.conn.execute(delete(t.cug_members).where(m.subscriber_id == subscriber_id))
        rows = [{"cug_id": cug_id, "subscriber_id": subscriber_id} for cug_id in cug_ids]
        self._insert_many(t.cug_members, rows)

    def subscriber_ids_by_msisdn(self, provider: str, msisdns: Sequence[str]) -> dict[str, int]:
        s = t.subscribers.c
        query = select(s.subscriber_id, s.id).where(
            s.service_provider == provider, s.subscriber_id.in_(list(msisdns))
        )
        return {row.subscriber_id: row.id for row in self.conn.execute(query)}

    # -- zones ---------------------------------------------------------------------------------

    def list_zones(self, subscriber_id: int) -> list[Zone]:
        z, s = t.zones.c, t.zone_shapes.c
        heads = list(
            self.conn.execute(
                select(z.id, z.name).where(z.subscriber_id == subscriber_id).order_by(z.name)
            )
        )
        query = select(t.zone_shapes).where(s.zone_id.in_([h.id for h in heads])).order_by(s.id)
        shapes: dict[int, list[ZoneShape]] = {}
        for row in self.conn.execute(query):
            shapes.setdefault(row.zone_id, []).append(ZoneShape(row.id, _shape(row)))
        return [Zone(h.id, h.name, tuple(shapes.get(h.id, ()))) for h in heads]

    def insert_zone(self, subscriber_id: int, name: str) -> int:
        return self._insert(t.zones, {"subscriber_id": subscriber_id, "name": name})

    def delete_zone(self, zone_id: int) -> None:
        self.conn.execute(delete(t.zone_shapes).where(t.zone_shapes.c.zone_id == zone_id))
        self.conn.execute(delete(t.zones).where(t.zones.c.id == zone_id))

    def insert_shape(self, zone_id: int, shape: Shape) -> int:
        return self._insert(t.zone_shapes, {"zone_id": zone_id, **_shape_values(shape)})

    def update_shape(self, shape_id: int, shape: Shape) -> None:
        where = t.zone_shapes.c.id == shape_id
        self.conn.execute(update(t.zone_shapes).where(where).values(**_shape_values(shape)))

    def delete_shape(self, shape_id: int) -> None:
        self.conn.execute(delete(t.zone_shapes).where(t.zone_shapes.c.id == shape_id))

    # -- comments ------------------------------------------------------------------------------

    def list_comments(self, subscriber_id: int) -> list[Comment]:
        c = t.subscriber_comments.c
        query = (
            select(t.subscriber_comments)
            .where(c.subscriber_id == subscriber_id)
            .order_by(c.created_at, c.id)
        )
        return [_comment(row) for row in self.conn.execute(query)]

    def get_comment(self, comment_id: int) -> Comment | None:
        c = t.subscriber_comments.c
        row = self.conn.execute(select(t.subscriber_comments).where(c.id == comment_id)).first()
        return None if row is None else _comment(row)

    def insert_comment(self, comment: Comment) -> int:
        return self._insert(
            t.subscriber_comments,
            {
                "subscriber_id": comment.subscriber_id,
                "author": comment.author,
                "text": comment.text,
                "created_at": comment.created_at,
                "updated_at": comment.updated_at,
            },
        )

    def update_comment(self, comment_id: int, text: str, updated_at: datetime) -> None:
        where = t.subscriber_comments.c.id == comment_id
        values = {"text": text, "updated_at": updated_at}
        self.conn.execute(update(t.subscriber_comments).where(where).values(**values))

    def delete_comment(self, comment_id: int) -> None:
        where = t.subscriber_comments.c.id == comment_id
        self.conn.execute(delete(t.subscriber_comments).where(where))

    # -- profile group fields ------------------------------------------------------------------

    def insert_group(self, group: ProfileGroup) -> int:
        return self._insert(t.profile_groups, _group_values(group))

    def update_group(self, group: ProfileGroup) -> None:
        where = t.profile_groups.c.id == group.id
        self.conn.execute(update(t.profile_groups).where(where).values(**_group_values(group)))

    def get_group(self, group_id: int) -> ProfileGroup | None:
        c = t.profile_groups.c
        row = self.conn.execute(select(t.profile_groups).where(c.id == group_id)).first()
        return None if row is None else _group(row)

    def list_groups(self, provider: str) -> list[ProfileGroup]:
        c = t.profile_groups.c
        query = select(t.profile_groups).where(c.service_provider == provider).order_by(c.name)
        return [_group(row) for row in self.conn.execute(query)]

    def delete_group(self, group_id: int) -> None:
        fields = select(t.profile_fields.c.id).where(t.profile_fields.c.group_id == group_id)
        self.conn.execute(delete(t.profile_values).where(t.profile_values.c.field_id.in_(fields)))
        self.conn.execute(delete(t.profile_fields).where(t.profile_fields.c.group_id == group_id))
        self.conn.execute(delete(t.profile_groups).where(t.profile_groups.c.id == group_id))

    def insert_field(self, field: ProfileField) -> int:
        return self._insert(t.profile_fields, _field_values(field))

    def update_field(self, field: ProfileField) -> None:
        where = t.profile_fields.c.id == field.id
        self.conn.execute(update(t.profile_fields).where(where).values(**_field_values(field)))

    def get_field(self, field_id: int) -> ProfileField | None:
        c = t.profile_fields.c
        row = self.conn.execute(select(t.profile_fields).where(c.id == field_id)).first()
        return None if row is None else _field(row)

    def list_fields(self, provider: str) -> list[ProfileField]:
        c = t.profile_fields.c
        query = (
            select(t.profile_fields)
            .where(c.service_provider == provider)
            .order_by(c.group_id, c.group_order, c.sub_order, c.id)
        )
        return [_field(row) for row in self.conn.execute(query)]

    def delete_field(self, field_id: int) -> None:
        self.conn.execute(delete(t.profile_values).where(t.profile_values.c.field_id == field_id))
        self.conn.execute(delete(t.profile_fields).where(t.profile_fields.c.id == field_id))

    def get_profile_values(self, subscriber_id: int) -> Mapping[int, object]:
        c = t.profile_values.c
        query = select(c.field_id, c.value).where(c.subscriber_id == subscriber_id)
        return {field_id: json.loads(value) for field_id, value in self.conn.execute(query)}

    def put_profile_value(self, subscriber_id: int, field_id: int, value: object) -> None:
        self.delete_profile_value(subscriber_id, field_id)
        self.conn.execute(
            insert(t.profile_values).values(
                subscriber_id=subscriber_id, field_id=field_id, value=json.dumps(value)
            )
        )

    def delete_profile_value(self, subscriber_id: int, field_id: int) -> None:
        c = t.profile_values.c
        where = (c.subscriber_id == subscriber_id) & (c.field_id == field_id)
        self.conn.execute(delete(t.profile_values).where(where))


def _shape(row: Any) -> Shape:
    if row.kind == ShapeKind.CIRCLE.value:
        return Circle(row.x1_udeg, row.y1_udeg, row.radius_um)
    return Rectangle(row.x1_udeg, row.y1_udeg, row.x2_udeg, row.y2_udeg)


def _shape_values(shape: Shape) -> dict[str, Any]:
    if isinstance(shape, Circle):
        return {
            "kind": ShapeKind.CIRCLE.value,
            "x1_udeg": shape.longitude_udeg,
            "y1_udeg": shape.latitude_udeg,
            "x2_udeg": None,
            "y2_udeg": None,
            "radius_um": shape.radius_um,
        }
    return {
        "kind": ShapeKind.RECTANGLE.value,
        "x1_udeg": shape.west_udeg,
        "y1_udeg": shape.north_udeg,
        "x2_udeg": shape.east_udeg,
        "y2_udeg": shape.south_udeg,
        "radius_um": None,
    }


def _comment(row: Any) -> Comment:
    m = row._mapping
    return Comment(
        m["id"], m["subscriber_id"], m["author"], m["text"], m["created_at"], m["updated_at"]
    )


def _group_values(group: ProfileGroup) -> dict[str, Any]:
    return {
        "service_provider": group.service_provider,
        "name": group.name,
        "permission_name": group.permission_name,
    }


def _group(row: Any) -> ProfileGroup:
    m = row._mapping
    return ProfileGroup(m["id"], m["service_provider"], m["name"], m["permission_name"])


def _field_values(field: ProfileField) -> dict[str, Any]:
    return {
        "group_id": field.group_id,
        "service_provider": field.service_provider,
        "display_name": field.display_name,
        "tag_name": field.tag_name,
        "tag_type": field.tag_type.value,
        "group_order": field.group_order,
        "sub_order": field.sub_order,
        "permission_name": field.permission_name,
        "value_limit": field.limit,
    }


def _field(row: Any) -> ProfileField:
    m = row._mapping
    return ProfileField(
        id=m["id"],
        group_id=m["group_id"],
        service_provider=m["service_provider"],
        display_name=m["display_name"],
        tag_name=m["tag_name"],
        tag_type=ProfileTagType(m["tag_type"]),
        group_order=m["group_order"],
        sub_order=m["sub_order"],
        permission_name=m["permission_name"],
        limit=m["value_limit"],
    )
