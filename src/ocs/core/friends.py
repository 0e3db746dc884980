"""Friends and Family (discounted numbers) and Friends and Destination (a discounted prefix),
with the service provider's black lists and the F&D prefix announcement map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.numbers import check_number, check_number_list, longest_prefix

FF_NUMBERS_MAX = 100
BLACKLIST_ENTRIES_MAX = 100
PREFIX_MAP_ENTRIES_MAX = 100
CHANGE_COUNT_MAX = 1_000_000
ANNOUNCEMENT_LENGTH_MAX = 50


class FriendsService(StrEnum):
    """The discount service active for a subscriber."""

    NONE = "NONE"
    FRIENDS_AND_FAMILY = "FRIENDS_AND_FAMILY"
    FRIENDS_AND_DESTINATION = "FRIENDS_AND_DESTINATION"


class FriendsMatch(StrEnum):
    """Outcomes in precedence order: how a called number qualifies for a discount."""

    FRIENDS_AND_FAMILY = "FRIENDS_AND_FAMILY"
    FRIENDS_AND_DESTINATION = "FRIENDS_AND_DESTINATION"
    NONE = "NONE"


class BlacklistKind(StrEnum):
    """The service provider's lists: F&F numbers match whole, F&D entries are prefixes."""

    FF_NUMBERS = "ff-blacklist"
    FD_PREFIXES = "fd-blacklist"


@dataclass(frozen=True)
class Friends:
    active_service: FriendsService = FriendsService.NONE
    fd_discount_prefix: str | None = None
    fd_change_count: int = 0
    fd_changed_at: datetime | None = None
    ff_change_count: int = 0
    ff_changed_at: datetime | None = None
    ff_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrefixMapEntry:
    prefix: str
    announcement_set: str
    announcement_entry: str


def parse_friends_service(value: str) -> FriendsService:
    try:
        return FriendsService(value)
    except ValueError:
        choices = ", ".join(s.value for s in FriendsService)
        raise invalid("active_service", f"active_service must be one of {choices}") from None


def check_change_count(value: int, field: str) -> int:
    if not 0 <= value <= CHANGE_COUNT_MAX:
        raise invalid(field, f"{field} must be 0-{CHANGE_COUNT_MAX}")
    return value


def check_change_date(value: datetime | None, now: datetime, field: str) -> datetime | None:
    """A most recent change lies in the past."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise invalid(field, f"{field} must carry a time zone")
    if value > now:
        raise invalid(field, f"{field} cannot be in the future")
    return value


def check_ff_numbers(numbers: Sequence[object], blacklist: Sequence[str]) -> tuple[str, ...]:
    checked = check_number_list(numbers, "ff_numbers", FF_NUMBERS_MAX)
    banned = set(blacklist)
    for number in checked:
        if number in banned:
            raise invalid(
                "ff_numbers", f"ff_numbers: {number!r} is on the service provider's F&F black list"
            )
    return tuple(sorted(checked))


def check_fd_discount_prefix(
    value: object, blacklist: Sequence[str], prefix_map: Sequence[PrefixMapEntry]
) -> str | None:
    """The F&D prefix is chosen from the prefix map and may not fall under a black-listed
    prefix."""
    if value is None:
        return None
    prefix = check_number(value, "fd_discount_prefix")
    banned = longest_prefix(prefix, blacklist)
    if banned is not None:
        raise invalid(
            "fd_discount_prefix",
            f"fd_discount_prefix {prefix!r} falls under {banned!r} on the F&D black list",
        )
    if prefix not in {entry.prefix for entry in prefix_map}:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"fd_discount_prefix {prefix!r} is not in the service provider's F&D prefix map",
            "fd_discount_prefix",
        )
    return prefix


def check_blacklist(entries: Sequence[object]) -> tuple[str, ...]:
    """At most 100 entries of at most 32 digits, kept sorted."""
    return tuple(sorted(check_number_list(entries, "numbers", BLACKLIST_ENTRIES_MAX)))


def check_announcement(value: object, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field} is required", field)
    if len(text) > ANNOUNCEMENT_LENGTH_MAX:
        raise invalid(field, f"{field} must be at most {ANNOUNCEMENT_LENGTH_MAX} characters")
    return text


def check_prefix_map_entry(
    prefix: object, announcement_set: object, announcement_entry: object
) -> PrefixMapEntry:
    return PrefixMapEntry(
        check_number(prefix, "prefix"),
        check_announcement(announcement_set, "announcement_set"),
        check_announcement(announcement_entry, "announcement_entry"),
    )


def friends_match(friends: Friends, called: str) -> FriendsMatch:
    """Whether a call to `called` (digits, after translation) gets the friends discount: a
    listed number under F&F, any number under the discount prefix under F&D."""
    if friends.active_service is FriendsService.FRIENDS_AND_FAMILY:
        if called in friends.ff_numbers:
            return FriendsMatch.FRIENDS_AND_FAMILY
    elif friends.active_service is FriendsService.FRIENDS_AND_DESTINATION:
        prefix = friends.fd_discount_prefix
        if prefix is not None and called.startswith(prefix):
            return FriendsMatch.FRIENDS_AND_DESTINATION
    return FriendsMatch.NONE
