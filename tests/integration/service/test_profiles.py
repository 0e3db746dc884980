"""Profile group fields and subscriber profile values, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.errors import ProblemKind
from ocs.core.profiles import ProfileTagType
from ocs.core.security import Role
from ocs.service.actor import Actor
from ocs.service.profiles import FieldInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.features import (
    OTHER_SP_OPERATOR,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

MODIFIER = operator("modifier", Role.READ_MODIFY)
CIRCLE = {"kind": "CIRCLE", "longitude_deg": "4.9", "latitude_deg": "52.4", "radius_km": "3"}


@pytest.fixture
def sub(services: Services, admin: Actor) -> int:
    load_feature_basics(services, admin)
    return add_subscriber(services, admin, "31600000001")


def _field(
    name: str, tag_type: str, order: tuple[int, int], limit: int | None = None
) -> FieldInput:
    return FieldInput(name, f"{name}Tag", tag_type, order[0], order[1], limit=limit)


def test_groups_get_standard_permission_names(services: Services, admin: Actor, sub: int) -> None:
    profiles = services.features.profiles
    loyalty = profiles.create_group(admin, PROVIDER, "Loyalty")
    assert loyalty.permission_name == "SP1-Loyalty"
    custom = profiles.create_group(admin, PROVIDER, "Care", permission_name="care-team")
    assert custom.permission_name == "care-team"
    renamed = profiles.rename_group(admin, loyalty.id, "Rewards")
    assert (renamed.name, renamed.permission_name) == ("Rewards", "SP1-Loyalty")
    assert [g.name for g in profiles.list_groups(admin, PROVIDER)] == ["Care", "Rewards"]
    duplicate = refused(profiles.create_group, admin, PROVIDER, "Care")
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "name")
    assert profiles.create_group(admin, OTHER_PROVIDER, "Care").permission_name == "SP2-Care"
    assert refused(profiles.list_groups, OTHER_SP_OPERATOR, PROVIDER).kind is (
        ProblemKind.NOT_FOUND
    )


def test_fields_are_ordered_and_named(services: Services, admin: Actor, sub: int) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "Loyalty")
    points = profiles.add_field(admin, group.id, _field("Points", "INTEGER", (2, 1)))
    tier = profiles.add_field(admin, group.id, _field("Tier", "STRING", (1, 2)))
    since = profiles.add_field(admin, group.id, _field("Since", "DATE", (1, 1)))
    assert points.permission_name == "SP1-Loyalty-Points"
    assert [f.display_name for f in profiles.list_fields(admin, group.id)] == [
        "Since", "Tier", "Points",
    ]  # fmt: skip
    moved = profiles.update_field(admin, tier.id, "Level", 3, 0)
    assert (moved.display_name, moved.permission_name, moved.tag_name) == (
        "Level", "SP1-Loyalty-Tier", "TierTag",
    )  # fmt: skip
    assert [f.id for f in profiles.list_fields(admin, group.id)] == [since.id, points.id, tier.id]


@pytest.mark.parametrize(
    ("inp", "kind", "field"),
    [
        (FieldInput("Other", "PointsTag", "STRING", 9, 9), ProblemKind.DUPLICATE, "tag_name"),
        (FieldInput("Points", "OtherTag", "STRING", 9, 9), ProblemKind.DUPLICATE,
         "display_name"),
        (FieldInput("Other", "OtherTag", "STRING", 1, 1), ProblemKind.CONFLICT, "sub_order"),
        (FieldInput("Other", "OtherTag", "FLOAT", 9, 9), ProblemKind.INVALID_VALUE, "tag_type"),
        (FieldInput("Other", "OtherTag", "LNSTRING", 9, 9), ProblemKind.MISSING_FIELD, "limit"),
        (FieldInput("Other", "OtherTag", "STRING", 9, 9, limit=3), ProblemKind.INVALID_VALUE,
         "limit"),
        (FieldInput("Other", "OtherTag", "STRING", -1, 9), ProblemKind.INVALID_VALUE,
         "group_order"),
    ],
)  # fmt: skip
def test_field_refusals(
    services: Services,
    admin: Actor,
    sub: int,
    inp: FieldInput,
    kind: ProblemKind,
    field: str,
) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "Loyalty")
    profiles.add_field(admin, group.id, _field("Points", "INTEGER", (1, 1)))
    error = refused(profiles.add_field, admin, group.id, inp)
    assert (error.kind, error.field) == (kind, field)
    assert len(profiles.list_fields(admin, group.id)) == 1


VALUES: list[tuple[str, int | None, object, object]] = [
    ("BOOLEAN", None, True, True),
    ("BYTE", None, -3, -3),
    ("DATE", None, "2026-03-01", "2026-03-01"),
    ("INTEGER", None, 123456, 123456),
    ("LNSTRING", 6, "012345", "012345"),
    ("LOPREFIX", 3, ["44", "33"], ["44", "33"]),
    ("NSTRING", None, "0031", "0031"),
    ("OPREFIX", None, ["44", "33"], ["44", "33"]),
    ("PREFIX", None, ["44", "33"], ["33", "44"]),
    ("STRING", None, "gold member", "gold member"),
]


def test_values_of_every_tag_type_round_trip(services: Services, admin: Actor, sub: int) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "All")
    ids = {}
    for i, (tag_type, limit, value, _) in enumerate(VALUES):
        field = profiles.add_field(
            admin, group.id, _field(tag_type.title(), tag_type, (i, 0), limit)
        )
        ids[tag_type] = field.id
        profiles.set_value(admin, sub, field.id, value)
    zone = profiles.add_field(admin, group.id, _field("Home", "ZONE", (99, 0)))
    profiles.set_value(admin, sub, zone.id, [CIRCLE])
    entries = {e.field.tag_type: e.value for e in profiles.subscriber_profile(admin, sub)}
    assert set(entries) == set(ProfileTagType)
    for tag_type, _, _, stored in VALUES:
        assert entries[ProfileTagType(tag_type)] == stored, tag_type
    assert entries[ProfileTagType.ZONE] == [
        {"kind": "CIRCLE", "longitude_deg": "4.90000", "latitude_deg": "52.40000",
         "radius_km": "3.0000000"},
    ]  # fmt: skip
    # A ZONE field's value is the subscriber's zone named after the tag.
    zones = services.features.zones.list_zones(admin, sub)
    assert [(z.name, len(z.shapes)) for z in zones] == [("HomeTag", 1)]


def test_invalid_values_are_refused_and_change_nothing(
    services: Services, admin: Actor, sub: int
) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "Loyalty")
    short = profiles.add_field(admin, group.id, _field("Card", "LNSTRING", (1, 1), limit=4))
    profiles.set_value(admin, sub, short.id, "1234")
    error = refused(profiles.set_value, admin, sub, short.id, "12345")
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "CardTag")
    zone = profiles.add_field(admin, group.id, _field("Home", "ZONE", (1, 2)))
    upside_down = {"kind": "RECTANGLE", "west_deg": "1", "north_deg": "1", "east_deg": "2",
                   "south_deg": "2"}  # fmt: skip
    error = refused(profiles.set_value, admin, sub, zone.id, [upside_down])
    assert error.field == "north_deg"
    values = {e.field.id: e.value for e in profiles.subscriber_profile(admin, sub)}
    assert values == {short.id: "1234", zone.id: None}


def test_value_privileges(services: Services, admin: Actor, sub: int) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "Loyalty")
    points = profiles.add_field(admin, group.id, _field("Points", "INTEGER", (1, 1)))
    # Read-modify may change a value but neither create nor delete one.
    assert refused(profiles.set_value, MODIFIER, sub, points.id, 5).kind is ProblemKind.FORBIDDEN
    profiles.set_value(admin, sub, points.id, 5)
    assert profiles.set_value(MODIFIER, sub, points.id, 6).value == 6
    assert refused(profiles.clear_value, MODIFIER, sub, points.id).kind is ProblemKind.FORBIDDEN
    profiles.clear_value(admin, sub, points.id)
    assert profiles.subscriber_profile(MODIFIER, sub)[0].value is None
    assert refused(profiles.clear_value, admin, sub, points.id).kind is ProblemKind.NOT_FOUND


def test_fields_of_another_provider_do_not_apply(
    services: Services, admin: Actor, sub: int
) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, OTHER_PROVIDER, "Theirs")
    field = profiles.add_field(admin, group.id, _field("Points", "INTEGER", (1, 1)))
    assert refused(profiles.set_value, admin, sub, field.id, 1).kind is ProblemKind.NOT_FOUND
    assert profiles.subscriber_profile(admin, sub) == []


def test_deleting_a_group_removes_fields_and_values(
    services: Services, admin: Actor, sub: int
) -> None:
    profiles = services.features.profiles
    group = profiles.create_group(admin, PROVIDER, "Loyalty")
    points = profiles.add_field(admin, group.id, _field("Points", "INTEGER", (1, 1)))
    tier = profiles.add_field(admin, group.id, _field("Tier", "STRING", (1, 2)))
    profiles.set_value(admin, sub, points.id, 5)
    profiles.set_value(admin, sub, tier.id, "gold")
    profiles.delete_field(admin, tier.id)
    assert [e.field.id for e in profiles.subscriber_profile(admin, sub)] == [points.id]
    assert refused(profiles.delete_group, MODIFIER, group.id).kind is ProblemKind.FORBIDDEN
    profiles.delete_group(admin, group.id)
    assert profiles.subscriber_profile(admin, sub) == []
    assert profiles.list_groups(admin, PROVIDER) == []
    with services.store.transaction() as uow:
        assert uow.features.get_profile_values(sub) == {}
