from __future__ import annotations

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.profiles import (
    ProfileField,
    ProfileTagType,
    check_limit,
    check_name,
    check_order,
    check_profile_value,
    check_zone_value,
    field_permission_name,
    group_permission_name,
    parse_tag_type,
)
from ocs.core.zones import Circle

T = ProfileTagType


def field(tag_type: ProfileTagType, limit: int | None = None) -> ProfileField:
    return ProfileField(1, 1, "SP1", "Shown", "Tag", tag_type, 1, 1, "SP1-G-Shown", limit)


VALID: list[tuple[ProfileTagType, int | None, object, object]] = [
    (T.BOOLEAN, None, True, True),
    (T.BOOLEAN, None, False, False),
    (T.BYTE, None, -9, -9),
    (T.BYTE, None, 9, 9),
    (T.DATE, None, "2026-02-28", "2026-02-28"),
    (T.INTEGER, None, -(2**31), -(2**31)),
    (T.INTEGER, None, 2**31 - 1, 2**31 - 1),
    (T.LNSTRING, 4, "0123", "0123"),
    (T.NSTRING, None, "9" * 255, "9" * 255),
    (T.STRING, None, "Hello, world ~", "Hello, world ~"),
    (T.PREFIX, None, ["33", "0031", "44"], ("0031", "33", "44")),
    (T.OPREFIX, None, ["33", "0031", "44"], ("33", "0031", "44")),
    (T.LOPREFIX, 2, ["33", "0031"], ("33", "0031")),
    (T.PREFIX, None, [], ()),
]

INVALID: list[tuple[ProfileTagType, int | None, object]] = [
    (T.BOOLEAN, None, "true"),
    (T.BOOLEAN, None, 1),
    (T.BYTE, None, 10),
    (T.BYTE, None, -10),
    (T.BYTE, None, True),
    (T.BYTE, None, "1"),
    (T.DATE, None, "2026-02-30"),
    (T.DATE, None, "28/02/2026"),
    (T.DATE, None, 20260228),
    (T.INTEGER, None, 2**31),
    (T.INTEGER, None, -(2**31) - 1),
    (T.INTEGER, None, 1.5),
    (T.LNSTRING, 4, "01234"),
    (T.LNSTRING, 4, "01a"),
    (T.NSTRING, None, "9" * 256),
    (T.NSTRING, None, ""),
    (T.NSTRING, None, "+31"),
    (T.STRING, None, "caf\u00e9"),
    (T.STRING, None, "line\nbreak"),
    (T.STRING, None, "x" * 256),
    (T.STRING, None, ""),
    (T.PREFIX, None, "33"),
    (T.PREFIX, None, ["33", "33"]),
    (T.OPREFIX, None, ["3x"]),
    (T.OPREFIX, None, [str(i) for i in range(101)]),
    (T.LOPREFIX, 2, ["1", "2", "3"]),
    (T.LOPREFIX, 2, ["1" * 33]),
]


@pytest.mark.parametrize(("tag_type", "limit", "value", "stored"), VALID)
def test_values_of_every_type(
    tag_type: ProfileTagType, limit: int | None, value: object, stored: object
) -> None:
    assert check_profile_value(field(tag_type, limit), value) == stored


@pytest.mark.parametrize(("tag_type", "limit", "value"), INVALID)
def test_invalid_values_name_the_tag(
    tag_type: ProfileTagType, limit: int | None, value: object
) -> None:
    with pytest.raises(DomainError) as caught:
        check_profile_value(field(tag_type, limit), value)
    assert caught.value.field == "Tag"
    assert caught.value.kind in (ProblemKind.INVALID_VALUE, ProblemKind.DUPLICATE)


def test_every_tag_type_is_covered() -> None:
    covered = {t for t, *_ in VALID} | {t for t, *_ in INVALID} | {T.ZONE}
    assert covered == set(ProfileTagType)


def test_zone_values_are_shapes() -> None:
    shape = {"kind": "CIRCLE", "longitude_deg": "4.9", "latitude_deg": "52.4", "radius_km": "2"}
    assert check_zone_value(field(T.ZONE), [shape]) == (
        Circle(4_900_000, 52_400_000, 2_000_000_000),
    )
    for bad in ([], [shape] * 6, "x", ["x"]):
        with pytest.raises(DomainError) as caught:
            check_zone_value(field(T.ZONE), bad)
        assert caught.value.field in ("Tag", "shapes")
    with pytest.raises(DomainError) as caught:
        check_zone_value(field(T.ZONE), [{**shape, "latitude_deg": "91"}])
    assert caught.value.field == "latitude_deg"


def test_limits_belong_to_limited_types_only() -> None:
    assert check_limit(T.LNSTRING, 10) == 10
    assert check_limit(T.LOPREFIX, 100) == 100
    assert check_limit(T.STRING, None) is None
    for tag_type, limit, kind in (
        (T.LNSTRING, None, ProblemKind.MISSING_FIELD),
        (T.LOPREFIX, 0, ProblemKind.INVALID_VALUE),
        (T.LOPREFIX, 101, ProblemKind.INVALID_VALUE),
        (T.LNSTRING, 256, ProblemKind.INVALID_VALUE),
        (T.STRING, 5, ProblemKind.INVALID_VALUE),
    ):
        with pytest.raises(DomainError) as caught:
            check_limit(tag_type, limit)
        assert (caught.value.kind, caught.value.field) == (kind, "limit")


def test_permission_names_are_auto_populated_from_the_names() -> None:
    assert group_permission_name("SP1", "Loyalty") == "SP1-Loyalty"
    assert field_permission_name("SP1", "Loyalty", "Points") == "SP1-Loyalty-Points"


def test_names_orders_and_types() -> None:
    assert check_name(" Loyalty ", "name", 50) == "Loyalty"
    assert parse_tag_type("ZONE") is T.ZONE
    assert check_order(9999, "sub_order") == 9999
    for call, field_name in (
        (lambda: check_name("", "name", 50), "name"),
        (lambda: check_name("x" * 51, "name", 50), "name"),
        (lambda: parse_tag_type("FLOAT"), "tag_type"),
        (lambda: check_order(-1, "group_order"), "group_order"),
        (lambda: check_order(10000, "sub_order"), "sub_order"),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.field == field_name
