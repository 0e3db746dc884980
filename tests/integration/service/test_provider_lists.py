"""A service provider's F&F black list, F&D black list and F&D prefix map, on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.errors import ProblemKind
from ocs.core.friends import (
    BLACKLIST_ENTRIES_MAX,
    PREFIX_MAP_ENTRIES_MAX,
    BlacklistKind,
    PrefixMapEntry,
)
from ocs.core.security import Role
from ocs.service.actor import Actor
from ocs.service.subscriber_features import FriendsInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.features import (
    OTHER_SP_OPERATOR,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

FF, FD = BlacklistKind.FF_NUMBERS, BlacklistKind.FD_PREFIXES
FULL = [f"3160000{i:04d}" for i in range(BLACKLIST_ENTRIES_MAX)]


@pytest.fixture
def basics(services: Services, admin: Actor) -> Services:
    load_feature_basics(services, admin)
    return services


@pytest.mark.parametrize("kind", list(BlacklistKind))
def test_a_101st_black_list_entry_is_refused(
    basics: Services, admin: Actor, kind: BlacklistKind
) -> None:
    lists = basics.features.provider_lists
    assert lists.set_blacklist(admin, kind, PROVIDER, FULL) == FULL
    error = refused(lists.add_to_blacklist, admin, kind, PROVIDER, "31699999999")
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "number")
    assert "full (100 entries)" in error.detail
    whole = refused(lists.set_blacklist, admin, kind, PROVIDER, [*FULL, "31699999999"])
    assert (whole.kind, whole.field) == (ProblemKind.INVALID_VALUE, "numbers")
    assert lists.get_blacklist(admin, kind, PROVIDER) == FULL


@pytest.mark.parametrize("kind", list(BlacklistKind))
def test_a_33_digit_black_list_entry_is_refused(
    basics: Services, admin: Actor, kind: BlacklistKind
) -> None:
    lists = basics.features.provider_lists
    lists.add_to_blacklist(admin, kind, PROVIDER, "9" * 32)
    error = refused(lists.add_to_blacklist, admin, kind, PROVIDER, "9" * 33)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "number")
    assert "longer than 32 digits" in error.detail
    assert lists.get_blacklist(admin, kind, PROVIDER) == ["9" * 32]


def test_black_list_add_remove_and_duplicates(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    lists.add_to_blacklist(admin, FF, PROVIDER, "0900")
    assert lists.add_to_blacklist(admin, FF, PROVIDER, "0800") == ["0800", "0900"]
    duplicate = refused(lists.add_to_blacklist, admin, FF, PROVIDER, "0900")
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "number")
    assert lists.get_blacklist(admin, FD, PROVIDER) == []  # the lists are separate
    assert lists.remove_from_blacklist(admin, FF, PROVIDER, "0900") == ["0800"]
    gone = refused(lists.remove_from_blacklist, admin, FF, PROVIDER, "0900")
    assert gone.kind is ProblemKind.NOT_FOUND
    assert lists.get_blacklist(admin, FF, OTHER_PROVIDER) == []


def test_black_listed_numbers_cannot_become_friends(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    sub = add_subscriber(basics, admin, "31600000001")
    lists.add_to_blacklist(admin, FF, PROVIDER, "0900123")
    lists.add_to_blacklist(admin, FD, PROVIDER, "09")
    lists.put_prefix_mapping(admin, PROVIDER, "0901", "premium", "one")
    features = basics.features.subscribers
    ff = refused(features.set_friends, admin, sub, FriendsInput(ff_numbers=("0900123",)))
    assert (ff.kind, ff.field) == (ProblemKind.INVALID_VALUE, "ff_numbers")
    assert "'0900123' is on the service provider's F&F black list" in ff.detail
    fd = refused(features.set_friends, admin, sub, FriendsInput(fd_discount_prefix="0901"))
    assert (fd.kind, fd.field) == (ProblemKind.INVALID_VALUE, "fd_discount_prefix")
    assert "under '09' on the F&D black list" in fd.detail
    # Another provider's black list does not apply.
    other = add_subscriber(basics, admin, "31600000001", OTHER_PROVIDER)
    friends = features.set_friends(admin, other, FriendsInput(ff_numbers=("0900123",)))
    assert friends.ff_numbers == ("0900123",)


def test_prefix_map_add_change_delete(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    lists.put_prefix_mapping(admin, PROVIDER, "4420", "regions", "london")
    lists.put_prefix_mapping(admin, PROVIDER, "33", "regions", "france")
    changed = lists.put_prefix_mapping(admin, PROVIDER, "4420", "regions", "greater london")
    assert changed == PrefixMapEntry("4420", "regions", "greater london")
    assert lists.get_prefix_map(admin, PROVIDER) == [
        PrefixMapEntry("33", "regions", "france"),
        changed,
    ]
    lists.delete_prefix_mapping(admin, PROVIDER, "33")
    assert [e.prefix for e in lists.get_prefix_map(admin, PROVIDER)] == ["4420"]
    assert refused(lists.delete_prefix_mapping, admin, PROVIDER, "33").kind is (
        ProblemKind.NOT_FOUND
    )


def test_at_most_100_prefix_mappings(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    for i in range(PREFIX_MAP_ENTRIES_MAX):
        lists.put_prefix_mapping(admin, PROVIDER, f"44{i:03d}", "set", f"entry {i}")
    error = refused(lists.put_prefix_mapping, admin, PROVIDER, "45", "set", "one too many")
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "prefix")
    # Changing an existing mapping of a full map is still fine.
    lists.put_prefix_mapping(admin, PROVIDER, "44000", "set", "renamed")
    prefixes = [e.prefix for e in lists.get_prefix_map(admin, PROVIDER)]
    assert len(prefixes) == PREFIX_MAP_ENTRIES_MAX
    assert "45" not in prefixes


def test_a_prefix_in_use_as_discount_prefix_stays(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    sub = add_subscriber(basics, admin, "31600000001")
    lists.put_prefix_mapping(admin, PROVIDER, "4420", "regions", "london")
    inp = FriendsInput(active_service="FRIENDS_AND_DESTINATION", fd_discount_prefix="4420")
    basics.features.subscribers.set_friends(admin, sub, inp)
    error = refused(lists.delete_prefix_mapping, admin, PROVIDER, "4420")
    assert (error.kind, error.field) == (ProblemKind.IN_USE, "prefix")
    assert [e.prefix for e in lists.get_prefix_map(admin, PROVIDER)] == ["4420"]


def test_operators_see_and_change_only_their_providers(basics: Services, admin: Actor) -> None:
    lists = basics.features.provider_lists
    assert refused(lists.get_blacklist, OTHER_SP_OPERATOR, FF, PROVIDER).kind is (
        ProblemKind.NOT_FOUND
    )
    assert refused(lists.add_to_blacklist, OTHER_SP_OPERATOR, FF, PROVIDER, "1").kind is (
        ProblemKind.NOT_FOUND
    )
    assert refused(lists.get_prefix_map, admin, "NOPE").kind is ProblemKind.NOT_FOUND
    reader = operator("reader", Role.READ_ONLY)
    assert refused(lists.add_to_blacklist, reader, FF, PROVIDER, "1").kind is (
        ProblemKind.FORBIDDEN
    )
    assert lists.get_blacklist(reader, FF, PROVIDER) == []
    # Refused changes leave no trace in the audit trail.
    assert basics.operators.audit_trail(admin, "ff-blacklist", 10) == []


def test_a_provider_with_lists_cannot_be_deleted(basics: Services, admin: Actor) -> None:
    basics.features.provider_lists.add_to_blacklist(admin, FD, OTHER_PROVIDER, "09")
    error = refused(basics.configuration.delete, admin, ConfigKind.SERVICE_PROVIDER, OTHER_PROVIDER)
    assert error.kind is ProblemKind.IN_USE


def test_a_second_writer_waits_for_the_first(basics: Services, admin: Actor) -> None:
    """The limits hold under concurrent writers: a unit of work changing a provider's lists
    holds the provider until it ends, so the next one counts what the first wrote."""
    second_done = threading.Event()

    def second_writer() -> None:
        basics.features.provider_lists.add_to_blacklist(admin, FF, PROVIDER, "2")
        second_done.set()

    with basics.store.transaction() as uow:
        uow.features.lock_provider(PROVIDER)
        uow.features.put_blacklist(FF, PROVIDER, ["1"])
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(0.5)
    thread.join(timeout=30)
    assert second_done.is_set()
    assert basics.features.provider_lists.get_blacklist(admin, FF, PROVIDER) == ["1", "2"]
