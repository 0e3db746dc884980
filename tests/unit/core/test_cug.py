from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.cug import (
    CUG_MEMBERS_MAX,
    CUG_VIRTUAL_MEMBERS_MAX,
    ClosedUserGroup,
    CugCallKind,
    CugMatch,
    VirtualMember,
    VirtualMemberKind,
    check_cug_name,
    check_member_numbers,
    check_virtual_member,
    check_virtual_members,
    cug_for_call,
)
from ocs.core.errors import DomainError, ProblemKind

SINGLE, RANGE, PATTERN = (
    VirtualMemberKind.SINGLE,
    VirtualMemberKind.RANGE,
    VirtualMemberKind.PATTERN,
)
OFFICE = ClosedUserGroup(
    id=1,
    service_provider="SP1",
    name="Office",
    tariff_plan="CUG_FREE",
    members=("31600000001", "31600000002"),
    virtual_members=(
        VirtualMember(SINGLE, "31201234567"),
        VirtualMember(RANGE, "31700000100", "31700000199"),
        VirtualMember(PATTERN, "3110", length=11),
    ),
)
FAMILY = ClosedUserGroup(2, "SP1", "Family", "CUG_CHEAP", ("31600000001", "31600000003"))


@pytest.mark.parametrize(
    ("calling", "called", "expected"),
    [
        ("31600000001", "31600000002", (1, CugCallKind.MEMBER)),
        ("31600000002", "31600000001", (1, CugCallKind.MEMBER)),
        ("31600000001", "31600000003", (2, CugCallKind.MEMBER)),
        ("31600000001", "31201234567", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31700000100", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31700000150", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31700000199", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31100000000", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31109999999", (1, CugCallKind.VIRTUAL_MEMBER)),
        ("31600000001", "31700000099", None),  # below the range
        ("31600000001", "31700000200", None),  # above the range
        ("31600000001", "317000001500", None),  # longer than the range's numbers
        ("31600000001", "311099999999", None),  # pattern: one digit too many
        ("31600000001", "3110999999", None),  # pattern: one digit short
        ("31600000001", "3120123456", None),  # single number: no prefix match
        ("31600000002", "31600000003", None),  # members of different groups
        ("31600000003", "31201234567", None),  # Family has no virtual members
        ("31699999999", "31600000001", None),  # the caller is in no group
        ("31201234567", "31600000001", None),  # a virtual member calling is not a member
    ],
)
def test_cug_calls(calling: str, called: str, expected: tuple[int, CugCallKind] | None) -> None:
    match = cug_for_call([OFFICE, FAMILY], calling, called)
    if expected is None:
        assert match is None
    else:
        assert match is not None
        assert (match.group_id, match.kind) == expected
        plan = {1: "CUG_FREE", 2: "CUG_CHEAP"}[expected[0]]
        assert match == CugMatch(expected[0], match.group_name, plan, expected[1])


def test_member_to_member_wins_over_a_virtual_member_in_another_group() -> None:
    virtual = ClosedUserGroup(
        3, "SP1", "A first by name", "V", ("31600000001",), (VirtualMember(SINGLE, "31600000002"),)
    )
    match = cug_for_call([virtual, OFFICE], "31600000001", "31600000002")
    assert match is not None
    assert (match.group_name, match.kind) == ("Office", CugCallKind.MEMBER)


def test_between_equal_matches_the_group_name_decides() -> None:
    b = ClosedUserGroup(9, "SP1", "B", "PB", ("1", "2"))
    a = ClosedUserGroup(8, "SP1", "A", "PA", ("1", "2"))
    for groups in ([a, b], [b, a]):
        match = cug_for_call(groups, "1", "2")
        assert match is not None
        assert match.tariff_plan == "PA"


@given(st.permutations([OFFICE, FAMILY]), st.sampled_from(
    ["31600000001", "31600000002", "31600000003", "31700000150", "31100000000"]
))  # fmt: skip
def test_the_answer_does_not_depend_on_group_order(
    groups: list[ClosedUserGroup], called: str
) -> None:
    assert cug_for_call(groups, "31600000001", called) == cug_for_call(
        [OFFICE, FAMILY], "31600000001", called
    )


def test_virtual_member_checks() -> None:
    assert check_virtual_member("SINGLE", "3120") == VirtualMember(SINGLE, "3120")
    assert check_virtual_member("RANGE", "100", "199") == VirtualMember(RANGE, "100", "199")
    assert check_virtual_member("RANGE", "100", "100").covers("100")
    assert check_virtual_member("PATTERN", "31", None, 2) == VirtualMember(PATTERN, "31", None, 2)
    assert check_virtual_member("PATTERN", "31", None, 32).length == 32


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (("SOME", "31"), ProblemKind.INVALID_VALUE),
        (("SINGLE", "31a"), ProblemKind.INVALID_VALUE),
        (("SINGLE", ""), ProblemKind.MISSING_FIELD),
        (("SINGLE", "31", "32"), ProblemKind.INVALID_VALUE),
        (("SINGLE", "31", None, 4), ProblemKind.INVALID_VALUE),
        (("RANGE", "199", "100"), ProblemKind.INVALID_VALUE),
        (("RANGE", "100", "1999"), ProblemKind.INVALID_VALUE),
        (("RANGE", "100"), ProblemKind.MISSING_FIELD),
        (("RANGE", "100", "199", 3), ProblemKind.INVALID_VALUE),
        (("PATTERN", "31"), ProblemKind.INVALID_VALUE),
        (("PATTERN", "311", None, 2), ProblemKind.INVALID_VALUE),
        (("PATTERN", "31", None, 33), ProblemKind.INVALID_VALUE),
        (("PATTERN", "31", None, True), ProblemKind.INVALID_VALUE),
        (("PATTERN", "31", "32", 4), ProblemKind.INVALID_VALUE),
    ],
)
def test_virtual_member_refusals(args: tuple[object, ...], kind: ProblemKind) -> None:
    with pytest.raises(DomainError) as caught:
        check_virtual_member(*args)  # type: ignore[arg-type]
    assert (caught.value.kind, caught.value.field) == (kind, "virtual_members")


def test_list_limits_and_duplicates() -> None:
    single = VirtualMember(SINGLE, "1")
    with pytest.raises(DomainError) as caught:
        check_virtual_members([single, single])
    assert caught.value.kind is ProblemKind.DUPLICATE
    many = [VirtualMember(SINGLE, str(i)) for i in range(CUG_VIRTUAL_MEMBERS_MAX + 1)]
    with pytest.raises(DomainError) as caught:
        check_virtual_members(many)
    assert caught.value.field == "virtual_members"
    assert len(check_member_numbers([str(i) for i in range(CUG_MEMBERS_MAX)])) == CUG_MEMBERS_MAX
    with pytest.raises(DomainError) as caught:
        check_member_numbers([str(i) for i in range(CUG_MEMBERS_MAX + 1)])
    assert caught.value.field == "members"
    with pytest.raises(DomainError) as caught:
        check_member_numbers(["316", "316"])
    assert (caught.value.kind, caught.value.field) == (ProblemKind.DUPLICATE, "members")


def test_cug_names() -> None:
    assert check_cug_name("  Office  ") == "Office"
    for bad, kind in (("", ProblemKind.MISSING_FIELD), ("x" * 51, ProblemKind.INVALID_VALUE)):
        with pytest.raises(DomainError) as caught:
            check_cug_name(bad)
        assert (caught.value.kind, caught.value.field) == (kind, "name")
