"""Repository ports for subscriber features (details, barring, translation, friends, closed
user groups, zones, comments, profile group fields); `UnitOfWork.features` provides them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocs.core.call_barring import CallBarring
from ocs.core.comments import Comment
from ocs.core.cug import ClosedUserGroup, VirtualMember
from ocs.core.friends import BlacklistKind, Friends, PrefixMapEntry
from ocs.core.number_translation import ShortCode, TranslationScope
from ocs.core.profiles import ProfileField, ProfileGroup
from ocs.core.subscriber_details import SubscriberDetails
from ocs.core.zones import Shape, Zone


@dataclass(frozen=True)
class StoredDetails:
    details: SubscriberDetails
    pin_hash: str | None
    pin_failures: int = 0


class SubscriberFeatureRepository(Protocol):
    def lock_subscriber(self, subscriber_id: int) -> None:
        """Hold the subscriber's row until the unit of work ends, so that concurrent changes
        to its features (and their limits) run one after the other."""
        ...

    def lock_provider(self, provider: str) -> None:
        """The same for a service provider's lists, groups and fields."""
        ...

    def get_details(self, subscriber_id: int) -> StoredDetails: ...

    def put_details(
        self, subscriber_id: int, details: SubscriberDetails, pin_hash: str | None
    ) -> None: ...

    def set_pin_failures(self, subscriber_id: int, failures: int) -> None: ...

    def get_call_barring(self, subscriber_id: int) -> CallBarring | None: ...

    def put_call_barring(self, subscriber_id: int, barring: CallBarring) -> None: ...

    def get_friends(self, subscriber_id: int) -> Friends | None: ...

    def put_friends(self, subscriber_id: int, friends: Friends) -> None: ...

    def count_fd_prefix_users(self, provider: str, prefix: str) -> int: ...

    def get_short_codes(self, scope: TranslationScope) -> list[ShortCode]: ...

    def put_short_codes(self, scope: TranslationScope, codes: Sequence[ShortCode]) -> None: ...


class ProviderListRepository(Protocol):
    def get_blacklist(self, kind: BlacklistKind, provider: str) -> list[str]: ...

    def put_blacklist(self, kind: BlacklistKind, provider: str, entries: Sequence[str]) -> None: ...

    def get_prefix_map(self, provider: str) -> list[PrefixMapEntry]: ...

    def put_prefix_map_entry(self, provider: str, entry: PrefixMapEntry) -> None:
        """Insert the entry, or replace the one with the same prefix."""
        ...

    def delete_prefix_map_entry(self, provider: str, prefix: str) -> None: ...


class CugRepository(Protocol):
    def insert_cug(self, provider: str, name: str, tariff_plan: str) -> int: ...

    def update_cug_tariff_plan(self, cug_id: int, tariff_plan: str) -> None: ...

    def get_cug(self, cug_id: int) -> ClosedUserGroup | None: ...

    def cug_id_by_name(self, provider: str, name: str) -> int | None: ...

    def search_cugs(
        self,
        providers: frozenset[str] | None,
        name_prefix: str,
        member_msisdn: str | None,
        limit: int,
    ) -> list[ClosedUserGroup]: ...

    def delete_cug(self, cug_id: int) -> None: ...

    def put_cug_members(self, cug_id: int, subscriber_ids: Sequence[int]) -> None: ...

    def put_virtual_members(self, cug_id: int, members: Sequence[VirtualMember]) -> None: ...

    def cugs_of_subscriber(self, subscriber_id: int) -> list[ClosedUserGroup]: ...

    def put_subscriber_cugs(self, subscriber_id: int, cug_ids: Sequence[int]) -> None: ...

    def subscriber_ids_by_msisdn(self, provider: str, msisdns: Sequence[str]) -> dict[str, int]:
        """Subscribers of the provider whose subscriber ID is one of `msisdns`."""
        ...


class ZoneRepository(Protocol):
    def list_zones(self, subscriber_id: int) -> list[Zone]: ...

    def insert_zone(self, subscriber_id: int, name: str) -> int: ...

    def delete_zone(self, zone_id: int) -> None: ...

    def insert_shape(self, zone_id: int, shape: Shape) -> int: ...

    def update_shape(self, shape_id: int, shape: Shape) -> None: ...

    def delete_shape(self, shape_id: int) -> None: ...


class CommentRepository(Protocol):
    def list_comments(self, subscriber_id: int) -> list[Comment]: ...

    def get_comment(self, comment_id: int) -> Comment | None: ...

    def insert_comment(self, comment: Comment) -> int: ...

    def update_comment(self, comment_id: int, text: str, updated_at: datetime) -> None: ...

    def delete_comment(self, comment_id: int) -> None: ...


class ProfileRepository(Protocol):
    def insert_group(self, group: ProfileGroup) -> int: ...

    def update_group(self, group: ProfileGroup) -> None: ...

    def get_group(self, group_id: int) -> ProfileGroup | None: ...

    def list_groups(self, provider: str) -> list[ProfileGroup]: ...

    def delete_group(self, group_id: int) -> None: ...

    def insert_field(self, field: ProfileField) -> int: ...

    def update_field(self, field: ProfileField) -> None: ...

    def get_field(self, field_id: int) -> ProfileField | None: ...

    def list_fields(self, provider: str) -> list[ProfileField]:
        """Every field of the provider, by group, group order and sub order."""
        ...

    def delete_field(self, field_id: int) -> None: ...

    def get_profile_values(self, subscriber_id: int) -> Mapping[int, object]:
        """Decoded values by field id."""
        ...

    def put_profile_value(self, subscriber_id: int, field_id: int, value: object) -> None: ...

    def delete_profile_value(self, subscriber_id: int, field_id: int) -> None: ...


class FeatureRepository(
    SubscriberFeatureRepository,
    ProviderListRepository,
    CugRepository,
    ZoneRepository,
    CommentRepository,
    ProfileRepository,
    Protocol,
):
    """All subscriber feature storage of one unit of work."""
