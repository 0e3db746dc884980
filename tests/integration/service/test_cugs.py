"""Closed user groups: groups, members by MSISDN, virtual members, search, membership from
both sides and the CUG tariff plan in call screening, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.cug import CugCallKind, VirtualMember, VirtualMemberKind
from ocs.core.errors import ProblemKind
from ocs.core.security import Role
from ocs.service.actor import Actor
from ocs.service.cugs import CugInput, VirtualMemberInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.features import (
    OTHER_SP_OPERATOR,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

A, B, C = "31600000001", "31600000002", "31600000003"


@pytest.fixture
def subs(services: Services, admin: Actor) -> dict[str, int]:
    load_feature_basics(services, admin)
    return {msisdn: add_subscriber(services, admin, msisdn) for msisdn in (A, B, C)}


def _office(**changes: object) -> CugInput:
    values: dict[str, object] = {
        "name": "Office",
        "service_provider": PROVIDER,
        "tariff_plan": "CUG_FREE",
        "members": (A, B),
        "virtual_members": (
            VirtualMemberInput("SINGLE", "31201234567"),
            VirtualMemberInput("RANGE", "31700000100", "31700000199"),
            VirtualMemberInput("PATTERN", "3110", length=11),
        ),
    }
    values.update(changes)
    return CugInput(**values)  # type: ignore[arg-type]


def test_create_and_read_a_group(services: Services, admin: Actor, subs: dict[str, int]) -> None:
    group = services.features.cugs.create(admin, _office())
    assert (group.name, group.service_provider, group.tariff_plan) == (
        "Office", PROVIDER, "CUG_FREE",
    )  # fmt: skip
    assert group.members == (A, B)
    assert group.virtual_members == (
        VirtualMember(VirtualMemberKind.SINGLE, "31201234567"),
        VirtualMember(VirtualMemberKind.RANGE, "31700000100", "31700000199"),
        VirtualMember(VirtualMemberKind.PATTERN, "3110", None, 11),
    )
    assert services.features.cugs.get(admin, group.id) == group
    entry = services.operators.audit_trail(admin, "closed-user-group", 1)[0]
    assert (entry.action, entry.detail["name"]) == ("create", "Office")


def test_names_are_unique_per_provider_and_immutable(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    group = cugs.create(admin, _office())
    duplicate = refused(cugs.create, admin, _office(members=()))
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "name")
    other = cugs.create(admin, _office(service_provider=OTHER_PROVIDER, members=()))
    assert other.service_provider == OTHER_PROVIDER
    renamed = refused(cugs.update, admin, group.id, _office(name="Office 2"))
    assert (renamed.kind, renamed.field) == (ProblemKind.IMMUTABLE_FIELD, "name")
    assert cugs.get(admin, group.id).name == "Office"


def test_whole_update_of_plan_and_members(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    group = cugs.create(admin, _office())
    updated = cugs.update(
        admin,
        group.id,
        CugInput(
            tariff_plan="CUG_CHEAP",
            members=(C, A),
            virtual_members=(VirtualMemberInput("SINGLE", "3120"),),
        ),
    )
    assert (updated.name, updated.tariff_plan, updated.members) == ("Office", "CUG_CHEAP", (A, C))
    assert updated.virtual_members == (VirtualMember(VirtualMemberKind.SINGLE, "3120"),)
    assert cugs.get(admin, group.id) == updated


@pytest.mark.parametrize(
    ("changes", "kind", "field"),
    [
        ({"members": ("31699999999",)}, ProblemKind.UNKNOWN_REFERENCE, "members"),
        ({"members": (A, A)}, ProblemKind.DUPLICATE, "members"),
        ({"tariff_plan": "NOPE"}, ProblemKind.UNKNOWN_REFERENCE, "tariff_plan"),
        ({"virtual_members": (VirtualMemberInput("RANGE", "200", "100"),)},
         ProblemKind.INVALID_VALUE, "virtual_members"),
        ({"virtual_members": (VirtualMemberInput("PATTERN", "31"),)},
         ProblemKind.INVALID_VALUE, "virtual_members"),
        ({"name": ""}, ProblemKind.MISSING_FIELD, "name"),
    ],
)  # fmt: skip
def test_refused_groups_are_not_created(
    services: Services,
    admin: Actor,
    subs: dict[str, int],
    changes: dict[str, object],
    kind: ProblemKind,
    field: str,
) -> None:
    cugs = services.features.cugs
    error = refused(cugs.create, admin, _office(**changes))
    assert (error.kind, error.field) == (kind, field)
    assert cugs.search(admin, PROVIDER) == []


def test_members_come_from_the_groups_own_provider(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    add_subscriber(services, admin, "31655555555", OTHER_PROVIDER)
    error = refused(services.features.cugs.create, admin, _office(members=("31655555555",)))
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "members")


def test_search_by_name_prefix_or_member(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    office = cugs.create(admin, _office())
    family = cugs.create(admin, _office(name="Family", members=(A, C), virtual_members=()))
    cugs.create(admin, _office(name="Football", service_provider=OTHER_PROVIDER, members=()))
    assert [g.name for g in cugs.search(admin, PROVIDER)] == ["Family", "Office"]
    assert [g.name for g in cugs.search(admin, name="f")] == ["Family", "Football"]
    assert [g.name for g in cugs.search(admin, PROVIDER, name="OFF")] == ["Office"]
    assert [g.id for g in cugs.search(admin, msisdn=A)] == [family.id, office.id]
    assert [g.id for g in cugs.search(admin, msisdn=B)] == [office.id]
    assert cugs.search(admin, name="fam", msisdn=B) == []
    assert [g.name for g in cugs.search(OTHER_SP_OPERATOR)] == ["Football"]
    assert refused(cugs.search, OTHER_SP_OPERATOR, PROVIDER).kind is ProblemKind.NOT_FOUND


def test_membership_from_the_subscriber_side(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    office = cugs.create(admin, _office(members=(A,)))
    family = cugs.create(admin, _office(name="Family", members=(), virtual_members=()))
    other = cugs.create(admin, _office(service_provider=OTHER_PROVIDER, members=()))
    joined = cugs.set_groups_of_subscriber(admin, subs[B], [office.id, family.id])
    assert [g.name for g in joined] == ["Family", "Office"]
    assert cugs.get(admin, office.id).members == (A, B)
    assert cugs.get(admin, family.id).members == (B,)
    left = cugs.set_groups_of_subscriber(admin, subs[B], [family.id])
    assert [g.name for g in left] == ["Family"]
    assert cugs.get(admin, office.id).members == (A,)
    assert [g.name for g in cugs.groups_of_subscriber(admin, subs[A])] == ["Office"]
    foreign = refused(cugs.set_groups_of_subscriber, admin, subs[B], [other.id])
    assert (foreign.kind, foreign.field) == (ProblemKind.UNKNOWN_REFERENCE, "closed_user_groups")
    assert [g.name for g in cugs.groups_of_subscriber(admin, subs[B])] == ["Family"]


def test_cug_calls_use_the_groups_tariff_plan(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    cugs.create(admin, _office())
    family = _office(name="Family", tariff_plan="CUG_CHEAP", members=(A, C), virtual_members=())
    cugs.create(admin, family)
    screen = services.features.subscribers.screen_call
    expected = {
        B: ("CUG_FREE", CugCallKind.MEMBER),
        C: ("CUG_CHEAP", CugCallKind.MEMBER),
        "31700000150": ("CUG_FREE", CugCallKind.VIRTUAL_MEMBER),
        "31100000000": ("CUG_FREE", CugCallKind.VIRTUAL_MEMBER),
    }
    for called, (plan, kind) in expected.items():
        match = screen(admin, subs[A], called).cug
        assert match is not None
        assert (match.tariff_plan, match.kind) == (plan, kind), called
    assert screen(admin, subs[A], "31700000200").cug is None
    assert screen(admin, subs[B], C).cug is None


def test_deleting_groups_and_members(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    cugs = services.features.cugs
    group = cugs.create(admin, _office())
    services.casm.delete_subscriber(admin, subs[B])
    assert cugs.get(admin, group.id).members == (A,)
    reader = operator("rm", Role.READ_MODIFY)
    assert refused(cugs.delete, reader, group.id).kind is ProblemKind.FORBIDDEN
    cugs.delete(admin, group.id)
    assert refused(cugs.get, admin, group.id).kind is ProblemKind.NOT_FOUND
    assert cugs.groups_of_subscriber(admin, subs[A]) == []


def test_a_tariff_plan_in_use_by_a_group_stays(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    services.features.cugs.create(admin, _office())
    error = refused(services.configuration.delete, admin, ConfigKind.TARIFF_PLAN, "CUG_FREE")
    assert error.kind is ProblemKind.IN_USE


def test_other_providers_groups_are_invisible(
    services: Services, admin: Actor, subs: dict[str, int]
) -> None:
    group = services.features.cugs.create(admin, _office())
    cugs = services.features.cugs
    assert refused(cugs.get, OTHER_SP_OPERATOR, group.id).kind is ProblemKind.NOT_FOUND
    assert refused(cugs.update, OTHER_SP_OPERATOR, group.id, _office()).kind is (
        ProblemKind.NOT_FOUND
    )
