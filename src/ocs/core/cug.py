"""Closed user groups: calls between members (or to a group's virtual members) are rated with
the group's tariff plan instead of the usual one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.numbers import NUMBER_DIGITS_MAX, check_distinct, check_number

CUG_NAME_LENGTH_MAX = 50
CUG_MEMBERS_MAX = 1000
CUG_VIRTUAL_MEMBERS_MAX = 100
CUG_GROUPS_PER_SUBSCRIBER_MAX = 100


class VirtualMemberKind(StrEnum):
    SINGLE = "SINGLE"  # one number
    RANGE = "RANGE"  # first..last, numbers of the same length
    PATTERN = "PATTERN"  # a prefix and a total length


VIRTUAL_PARTS = {
    VirtualMemberKind.SINGLE: "number",
    VirtualMemberKind.RANGE: "number and last_number",
    VirtualMemberKind.PATTERN: "number (the prefix) and length",
}


class CugCallKind(StrEnum):
    """How a call is inside a group, in precedence order."""

    MEMBER = "MEMBER"
    VIRTUAL_MEMBER = "VIRTUAL_MEMBER"


@dataclass(frozen=True)
class VirtualMember:
    kind: VirtualMemberKind
    number: str  # the number, the first number of the range, or the pattern's prefix
    last_number: str | None = None
    length: int | None = None

    def covers(self, called: str) -> bool:
        if self.kind is VirtualMemberKind.SINGLE:
            return called == self.number
        if self.kind is VirtualMemberKind.RANGE:
            assert self.last_number is not None
            # Equal lengths make the string order the numeric order.
            return len(called) == len(self.number) and self.number <= called <= self.last_number
        return len(called) == self.length and called.startswith(self.number)


@dataclass(frozen=True)
class ClosedUserGroup:
    id: int
    service_provider: str
    name: str
    tariff_plan: str
    members: tuple[str, ...]  # the members' subscriber IDs (MSISDNs)
    virtual_members: tuple[VirtualMember, ...] = ()


@dataclass(frozen=True)
class CugMatch:
    group_id: int
    group_name: str
    tariff_plan: str
    kind: CugCallKind


def check_cug_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(ProblemKind.MISSING_FIELD, "name is required", "name")
    if len(text) > CUG_NAME_LENGTH_MAX:
        raise invalid("name", f"name must be at most {CUG_NAME_LENGTH_MAX} characters")
    return text


def check_virtual_member(
    kind: str, number: object, last_number: object = None, length: object = None
) -> VirtualMember:
    field = "virtual_members"
    try:
        parsed = VirtualMemberKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in VirtualMemberKind)
        raise invalid(field, f"virtual member kind must be one of {choices}") from None
    first = check_number(number, field)
    if parsed is VirtualMemberKind.SINGLE:
        _refuse_extra(last_number is not None or length is not None, parsed)
        return VirtualMember(parsed, first)
    if parsed is VirtualMemberKind.RANGE:
        _refuse_extra(length is not None, parsed)
        last = check_number(last_number, field)
        if len(last) != len(first):
            raise invalid(field, f"range {first}-{last}: both ends need the same number of digits")
        if last < first:
            raise invalid(field, f"range {first}-{last}: the last number is below the first")
        return VirtualMember(parsed, first, last_number=last)
    _refuse_extra(last_number is not None, parsed)
    if isinstance(length, bool) or not isinstance(length, int):
        raise invalid(field, "a PATTERN virtual member needs an integer length")
    if not len(first) <= length <= NUMBER_DIGITS_MAX:
        raise invalid(
            field,
            f"pattern {first}: length must be {len(first)}-{NUMBER_DIGITS_MAX} (prefix to max)",
        )
    return VirtualMember(parsed, first, length=length)


def _refuse_extra(given: bool, kind: VirtualMemberKind) -> None:
    if given:
        raise invalid(
            "virtual_members", f"a {kind.value} virtual member takes only {VIRTUAL_PARTS[kind]}"
        )


def check_virtual_members(members: Sequence[VirtualMember]) -> tuple[VirtualMember, ...]:
    if len(members) > CUG_VIRTUAL_MEMBERS_MAX:
        raise invalid(
            "virtual_members", f"virtual_members may hold at most {CUG_VIRTUAL_MEMBERS_MAX} entries"
        )
    if len(set(members)) != len(members):
        raise DomainError(
            ProblemKind.DUPLICATE, "virtual_members lists an entry twice", "virtual_members"
        )
    return tuple(members)


def check_member_numbers(numbers: Sequence[object]) -> tuple[str, ...]:
    if len(numbers) > CUG_MEMBERS_MAX:
        raise invalid("members", f"members may hold at most {CUG_MEMBERS_MAX} MSISDNs")
    checked = tuple(check_number(n, "members") for n in numbers)
    check_distinct(checked, "members")
    return checked


def cug_for_call(groups: Iterable[ClosedUserGroup], calling: str, called: str) -> CugMatch | None:
    """The group whose tariff plan rates a call, if the call is inside one.

    A call is inside a group when the caller is a member and the callee is a member too, or
    falls under one of the group's virtual members. Member-to-member wins over a virtual
    member; among equals the group name (then id) decides, so the answer never depends on
    the order groups were loaded in.
    """
    best: tuple[int, str, int] | None = None
    found: CugMatch | None = None
    order = list(CugCallKind)
    for group in groups:
        if calling not in group.members:
            continue
        kind: CugCallKind | None = None
        if called in group.members:
            kind = CugCallKind.MEMBER
        elif any(v.covers(called) for v in group.virtual_members):
            kind = CugCallKind.VIRTUAL_MEMBER
        if kind is None:
            continue
        rank = (order.index(kind), group.name, group.id)
        if best is None or rank < best:
            best = rank
            found = CugMatch(group.id, group.name, group.tariff_plan, kind)
    return found
