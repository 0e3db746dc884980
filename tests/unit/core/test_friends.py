from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.friends import (
    BLACKLIST_ENTRIES_MAX,
    FF_NUMBERS_MAX,
    Friends,
    FriendsMatch,
    FriendsService,
    PrefixMapEntry,
    check_blacklist,
    check_change_count,
    check_change_date,
    check_fd_discount_prefix,
    check_ff_numbers,
    check_prefix_map_entry,
    friends_match,
    parse_friends_service,
)

FF, FD, NONE = (
    FriendsService.FRIENDS_AND_FAMILY,
    FriendsService.FRIENDS_AND_DESTINATION,
    FriendsService.NONE,
)
NUMBERS = ("31611111111", "31622222222")
MAP = [PrefixMapEntry("4420", "regions", "london"), PrefixMapEntry("33", "regions", "france")]


def _refused(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("service", "called", "match"),
    [
        (FF, "31611111111", FriendsMatch.FRIENDS_AND_FAMILY),
        (FF, "3161111111", FriendsMatch.NONE),  # a listed number matches whole, not as prefix
        (FF, "316111111119", FriendsMatch.NONE),
        (FF, "4420123", FriendsMatch.NONE),
        (FD, "4420123", FriendsMatch.FRIENDS_AND_DESTINATION),
        (FD, "4420", FriendsMatch.FRIENDS_AND_DESTINATION),
        (FD, "442", FriendsMatch.NONE),
        (FD, "31611111111", FriendsMatch.NONE),  # F&F numbers do not count under F&D
        (NONE, "31611111111", FriendsMatch.NONE),
        (NONE, "4420123", FriendsMatch.NONE),
    ],
)
def test_friends_match_follows_the_active_service(
    service: FriendsService, called: str, match: FriendsMatch
) -> None:
    friends = Friends(active_service=service, fd_discount_prefix="4420", ff_numbers=NUMBERS)
    assert friends_match(friends, called) is match


def test_fd_without_a_discount_prefix_discounts_nothing() -> None:
    assert friends_match(Friends(active_service=FD), "4420") is FriendsMatch.NONE


def test_ff_numbers_are_checked_against_the_black_list() -> None:
    assert check_ff_numbers(["316222", "316111"], ["0900"]) == ("316111", "316222")
    error = _refused(check_ff_numbers, ["316111", "0900"], ["0900"])
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "ff_numbers")
    assert "black list" in error.detail
    # The F&F black list holds whole numbers: a longer number is not black-listed.
    assert check_ff_numbers(["09001"], ["0900"]) == ("09001",)


def test_ff_numbers_limits() -> None:
    assert len(check_ff_numbers([str(10**6 + i) for i in range(FF_NUMBERS_MAX)], [])) == 100
    error = _refused(check_ff_numbers, [str(10**6 + i) for i in range(FF_NUMBERS_MAX + 1)], [])
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "ff_numbers")
    assert _refused(check_ff_numbers, ["1" * 33], []).field == "ff_numbers"


def test_fd_discount_prefix_comes_from_the_map_and_not_the_black_list() -> None:
    assert check_fd_discount_prefix(None, ["44"], MAP) is None
    assert check_fd_discount_prefix("33", ["44"], MAP) == "33"
    black = _refused(check_fd_discount_prefix, "4420", ["44"], MAP)
    assert (black.kind, black.field) == (ProblemKind.INVALID_VALUE, "fd_discount_prefix")
    assert "'44' on the F&D black list" in black.detail
    unmapped = _refused(check_fd_discount_prefix, "49", [], MAP)
    assert (unmapped.kind, unmapped.field) == (
        ProblemKind.UNKNOWN_REFERENCE, "fd_discount_prefix",
    )  # fmt: skip
    assert _refused(check_fd_discount_prefix, "4x", [], MAP).field == "fd_discount_prefix"


def test_change_counts_and_dates() -> None:
    now = datetime(2026, 1, 15, tzinfo=UTC)
    assert check_change_count(0, "ff_change_count") == 0
    assert _refused(check_change_count, -1, "ff_change_count").field == "ff_change_count"
    assert check_change_date(now, now, "ff_changed_at") == now
    assert check_change_date(None, now, "ff_changed_at") is None
    future = _refused(check_change_date, now + timedelta(seconds=1), now, "fd_changed_at")
    assert (future.kind, future.field) == (ProblemKind.INVALID_VALUE, "fd_changed_at")
    naive = _refused(check_change_date, datetime(2026, 1, 1), now, "fd_changed_at")
    assert naive.field == "fd_changed_at"


def test_active_service_parsing() -> None:
    assert parse_friends_service("FRIENDS_AND_DESTINATION") is FD
    assert _refused(parse_friends_service, "FF").field == "active_service"


def test_black_list_limits_are_100_numbers_of_32_digits() -> None:
    full = [str(10**9 + i) for i in range(BLACKLIST_ENTRIES_MAX)]
    assert check_blacklist(full) == tuple(sorted(full))
    assert check_blacklist(["9" * 32]) == ("9" * 32,)
    too_many = _refused(check_blacklist, [*full, "1"])
    assert (too_many.kind, too_many.field) == (ProblemKind.INVALID_VALUE, "numbers")
    too_long = _refused(check_blacklist, ["9" * 33])
    assert (too_long.kind, too_long.field) == (ProblemKind.INVALID_VALUE, "numbers")
    assert _refused(check_blacklist, ["1", "1"]).kind is ProblemKind.DUPLICATE


def test_prefix_map_entries() -> None:
    entry = check_prefix_map_entry(" 4420 ", "regions", " london ")
    assert entry == PrefixMapEntry("4420", "regions", "london")
    assert _refused(check_prefix_map_entry, "44", "", "x").field == "announcement_set"
    assert _refused(check_prefix_map_entry, "44", "x", "y" * 51).field == "announcement_entry"
    assert _refused(check_prefix_map_entry, "4a", "x", "y").field == "prefix"
