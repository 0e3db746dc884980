"""Subscriber features: details and PIN, call barring, number translation, friends and family,
closed user groups, zones, comments, profile group fields and the provider's lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocs.core.call_barring import CallBarring
from ocs.core.comments import Comment
from ocs.core.cug import ClosedUserGroup
from ocs.core.friends import BlacklistKind, Friends, PrefixMapEntry
from ocs.core.number_translation import ShortCode, TranslationLevel
from ocs.core.profiles import ProfileField, ProfileGroup
from ocs.core.screening import CallScreening
from ocs.core.subscriber_details import SubscriberDetails
from ocs.core.zones import Zone, shape_view
from ocs.service.actor import Actor
from ocs.service.cugs import CugInput, VirtualMemberInput
from ocs.service.features import FeatureServices
from ocs.service.profiles import FieldInput
from ocs.service.subscriber_features import DetailsInput, FriendsInput

from .auth import current_actor


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DetailsBody(Body):
    description: str | None = None
    pin_defined: bool = Field(False, description="False removes the PIN")
    pin: str | None = Field(None, description="New PIN, 4-20 digits (never returned)", repr=False)
    pin_confirmation: str | None = Field(None, description="The new PIN again", repr=False)
    subscriber_id_restricted: bool = False
    incoming_calls_disabled_when_roaming: bool = False
    blacklisted: bool = False
    sms_notifications_disabled: bool = False
    remote_access_allowed: bool = False


class PinCheck(Body):
    pin: str = Field(repr=False)


class PinResult(BaseModel):
    valid: bool


class CallBarringBody(Body):
    list_type: str = Field(description="ALLOWED or BARRED")
    ignore: bool = False
    numbers: list[str] = Field(default_factory=list, description="Numbers or prefixes")


class ShortCodeBody(Body):
    short_code: str
    number: str


class ShortCodesBody(Body):
    short_codes: list[ShortCodeBody]


class FriendsBody(Body):
    model_config = ConfigDict(extra="forbid", strict=False)

    active_service: str = "NONE"
    fd_discount_prefix: str | None = None
    fd_change_count: int = 0
    fd_changed_at: datetime | None = None
    ff_change_count: int = 0
    ff_changed_at: datetime | None = None
    ff_numbers: list[str] = Field(default_factory=list)


class NumbersBody(Body):
    numbers: list[str]


class NumberBody(Body):
    number: str


class AnnouncementBody(Body):
    announcement_set: str
    announcement_entry: str


class VirtualMemberBody(Body):
    kind: str = Field(description="SINGLE, RANGE or PATTERN")
    number: str = Field(description="The number, the range's first number or the prefix")
    last_number: str | None = None
    length: int | None = Field(None, description="Total length of a PATTERN number")


class CugUpdateBody(Body):
    tariff_plan: str
    members: list[str] = Field(default_factory=list, description="Members' MSISDNs")
    virtual_members: list[VirtualMemberBody] = Field(default_factory=list)
    name: str | None = Field(None, description="Fixed after creation; may only be repeated")


class CugCreateBody(CugUpdateBody):
    name: str
    service_provider: str


class SubscriberCugsBody(Body):
    closed_user_groups: list[int]


Coordinate = str | int | float


class ShapeBody(Body):
    kind: str = Field(description="CIRCLE or RECTANGLE")
    longitude_deg: Coordinate | None = None
    latitude_deg: Coordinate | None = None
    radius_km: Coordinate | None = None
    west_deg: Coordinate | None = None
    north_deg: Coordinate | None = None
    east_deg: Coordinate | None = None
    south_deg: Coordinate | None = None


class ShapeOut(BaseModel):
    id: int
    kind: str
    longitude_deg: str | None = None
    latitude_deg: str | None = None
    radius_km: str | None = None
    west_deg: str | None = None
    north_deg: str | None = None
    east_deg: str | None = None
    south_deg: str | None = None


class ZoneOut(BaseModel):
    name: str
    shapes: list[ShapeOut]


class CommentBody(Body):
    text: str


class GroupBody(Body):
    name: str
    permission_name: str | None = Field(
        None, description="Left out: <service provider>-<group name>"
    )


class GroupRename(Body):
    name: str


class GroupOut(BaseModel):
    group: ProfileGroup
    fields: list[ProfileField]


class FieldBody(Body):
    display_name: str
    tag_name: str
    tag_type: str
    group_order: int
    sub_order: int
    permission_name: str | None = Field(
        None, description="Left out: <service provider>-<group name>-<display name>"
    )
    limit: int | None = Field(None, description="LNSTRING digits or LOPREFIX entries")


class FieldUpdate(Body):
    display_name: str
    group_order: int
    sub_order: int


class ValueBody(Body):
    model_config = ConfigDict(extra="forbid", strict=False)

    value: Any


class ProfileEntryOut(BaseModel):
    field: ProfileField
    value: Any


def _features(request: Request) -> FeatureServices:
    return request.app.state.services.features  # type: ignore[no-any-return]


def _zone_out(zone: Zone) -> ZoneOut:
    return ZoneOut(
        name=zone.name,
        shapes=[ShapeOut(id=s.id, **shape_view(s.shape)) for s in zone.shapes],
    )


def _shape(body: ShapeBody) -> dict[str, object]:
    return body.model_dump(exclude_none=True)


def _codes(body: ShortCodesBody) -> list[tuple[str, str]]:
    return [(c.short_code, c.number) for c in body.short_codes]


def _cug_input(body: CugUpdateBody, provider: str | None = None) -> CugInput:
    return CugInput(
        tariff_plan=body.tariff_plan,
        members=tuple(body.members),
        virtual_members=tuple(
            VirtualMemberInput(v.kind, v.number, v.last_number, v.length)
            for v in body.virtual_members
        ),
        name=body.name,
        service_provider=provider,
    )


def _no_content() -> Response:
    return Response(status_code=204)


router = APIRouter(tags=["subscriber features"])
SUB = "/subscribers/{subscriber_id}"
SP = "/service-providers/{code}"

# -- subscriber details ------------------------------------------------------------------------


@router.get(f"{SUB}/details")
def get_details(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> SubscriberDetails:
    return _features(request).subscribers.get_details(actor, subscriber_id)


@router.put(f"{SUB}/details", summary="Replace the details; the PIN is only ever written")
def put_details(
    request: Request, subscriber_id: int, body: DetailsBody, actor: Actor = Depends(current_actor)
) -> SubscriberDetails:
    inp = DetailsInput(**body.model_dump())
    return _features(request).subscribers.update_details(actor, subscriber_id, inp)


@router.post(f"{SUB}/pin-check", summary="Whether a PIN is the subscriber's PIN")
def check_pin(
    request: Request, subscriber_id: int, body: PinCheck, actor: Actor = Depends(current_actor)
) -> PinResult:
    valid = _features(request).subscribers.verify_pin(actor, subscriber_id, body.pin)
    return PinResult(valid=valid)


# -- call barring, number translation, friends, screening --------------------------------------


@router.get(f"{SUB}/call-barring")
def get_call_barring(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> CallBarring:
    return _features(request).subscribers.get_call_barring(actor, subscriber_id)


@router.put(f"{SUB}/call-barring")
def put_call_barring(
    request: Request,
    subscriber_id: int,
    body: CallBarringBody,
    actor: Actor = Depends(current_actor),
) -> CallBarring:
    return _features(request).subscribers.set_call_barring(
        actor, subscriber_id, body.list_type, body.ignore, body.numbers
    )


@router.get(f"{SUB}/number-translations")
def get_subscriber_short_codes(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.get_subscriber_short_codes(actor, subscriber_id)


@router.put(f"{SUB}/number-translations")
def put_subscriber_short_codes(
    request: Request,
    subscriber_id: int,
    body: ShortCodesBody,
    actor: Actor = Depends(current_actor),
) -> list[ShortCode]:
    return _features(request).subscribers.set_subscriber_short_codes(
        actor, subscriber_id, _codes(body)
    )


@router.get(f"{SUB}/friends")
def get_friends(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> Friends:
    return _features(request).subscribers.get_friends(actor, subscriber_id)


@router.put(f"{SUB}/friends")
def put_friends(
    request: Request, subscriber_id: int, body: FriendsBody, actor: Actor = Depends(current_actor)
) -> Friends:
    data = body.model_dump()
    data["ff_numbers"] = tuple(body.ff_numbers)
    return _features(request).subscribers.set_friends(actor, subscriber_id, FriendsInput(**data))


@router.get(f"{SUB}/screening", summary="Translation, barring, CUG and friends for a call")
def screen_call(
    request: Request,
    subscriber_id: int,
    dialled: str,
    product_type: str | None = None,
    actor: Actor = Depends(current_actor),
) -> CallScreening:
    return _features(request).subscribers.screen_call(actor, subscriber_id, dialled, product_type)


# -- shared number translations ----------------------------------------------------------------


@router.get("/number-translations", summary="System-wide short codes")
def get_system_short_codes(
    request: Request, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.get_shared_short_codes(
        actor, TranslationLevel.SYSTEM, None
    )


@router.put("/number-translations", summary="Replace the system-wide short codes (admin)")
def put_system_short_codes(
    request: Request, body: ShortCodesBody, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.set_shared_short_codes(
        actor, TranslationLevel.SYSTEM, None, _codes(body)
    )


@router.get(f"{SP}/number-translations")
def get_provider_short_codes(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.get_shared_short_codes(
        actor, TranslationLevel.SERVICE_PROVIDER, code
    )


@router.put(f"{SP}/number-translations")
def put_provider_short_codes(
    request: Request, code: str, body: ShortCodesBody, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.set_shared_short_codes(
        actor, TranslationLevel.SERVICE_PROVIDER, code, _codes(body)
    )


@router.get("/product-types/{code}/number-translations")
def get_product_type_short_codes(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.get_shared_short_codes(
        actor, TranslationLevel.PRODUCT_TYPE, code
    )


@router.put("/product-types/{code}/number-translations")
def put_product_type_short_codes(
    request: Request, code: str, body: ShortCodesBody, actor: Actor = Depends(current_actor)
) -> list[ShortCode]:
    return _features(request).subscribers.set_shared_short_codes(
        actor, TranslationLevel.PRODUCT_TYPE, code, _codes(body)
    )


# -- the service provider's black lists and F&D prefix map -------------------------------------


def _blacklist_routes(kind: BlacklistKind) -> None:
    path = f"{SP}/{kind.value}"

    @router.get(path, name=f"get_{kind.name.lower()}")
    def get_list(request: Request, code: str, actor: Actor = Depends(current_actor)) -> list[str]:
        return _features(request).provider_lists.get_blacklist(actor, kind, code)

    @router.put(path, name=f"put_{kind.name.lower()}", summary="Replace the whole list")
    def put_list(
        request: Request, code: str, body: NumbersBody, actor: Actor = Depends(current_actor)
    ) -> list[str]:
        return _features(request).provider_lists.set_blacklist(actor, kind, code, body.numbers)

    @router.post(f"{path}/numbers", name=f"add_{kind.name.lower()}", status_code=201)
    def add_number(
        request: Request, code: str, body: NumberBody, actor: Actor = Depends(current_actor)
    ) -> list[str]:
        lists = _features(request).provider_lists
        return lists.add_to_blacklist(actor, kind, code, body.number)

    @router.delete(f"{path}/numbers/{{number}}", name=f"remove_{kind.name.lower()}")
    def remove_number(
        request: Request, code: str, number: str, actor: Actor = Depends(current_actor)
    ) -> list[str]:
        lists = _features(request).provider_lists
        return lists.remove_from_blacklist(actor, kind, code, number)


for _kind in BlacklistKind:
    _blacklist_routes(_kind)


@router.get(f"{SP}/fd-prefix-map")
def get_prefix_map(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[PrefixMapEntry]:
    return _features(request).provider_lists.get_prefix_map(actor, code)


@router.put(f"{SP}/fd-prefix-map/{{prefix}}", summary="Map a prefix to an announcement")
def put_prefix_mapping(
    request: Request,
    code: str,
    prefix: str,
    body: AnnouncementBody,
    actor: Actor = Depends(current_actor),
) -> PrefixMapEntry:
    return _features(request).provider_lists.put_prefix_mapping(
        actor, code, prefix, body.announcement_set, body.announcement_entry
    )


@router.delete(f"{SP}/fd-prefix-map/{{prefix}}", status_code=204)
def delete_prefix_mapping(
    request: Request, code: str, prefix: str, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).provider_lists.delete_prefix_mapping(actor, code, prefix)
    return _no_content()


# -- closed user groups ------------------------------------------------------------------------


@router.get("/closed-user-groups", summary="Find groups by name prefix or member (100 rows)")
def search_cugs(
    request: Request,
    service_provider: str | None = None,
    name: str = "",
    msisdn: str | None = None,
    actor: Actor = Depends(current_actor),
) -> list[ClosedUserGroup]:
    return _features(request).cugs.search(actor, service_provider, name, msisdn)


@router.post("/closed-user-groups", status_code=201)
def create_cug(
    request: Request, body: CugCreateBody, actor: Actor = Depends(current_actor)
) -> ClosedUserGroup:
    return _features(request).cugs.create(actor, _cug_input(body, body.service_provider))


@router.get("/closed-user-groups/{cug_id}")
def get_cug(
    request: Request, cug_id: int, actor: Actor = Depends(current_actor)
) -> ClosedUserGroup:
    return _features(request).cugs.get(actor, cug_id)


@router.put("/closed-user-groups/{cug_id}", summary="Replace plan, members, virtual members")
def put_cug(
    request: Request, cug_id: int, body: CugUpdateBody, actor: Actor = Depends(current_actor)
) -> ClosedUserGroup:
    return _features(request).cugs.update(actor, cug_id, _cug_input(body))


@router.delete("/closed-user-groups/{cug_id}", status_code=204)
def delete_cug(request: Request, cug_id: int, actor: Actor = Depends(current_actor)) -> Response:
    _features(request).cugs.delete(actor, cug_id)
    return _no_content()


@router.get(f"{SUB}/closed-user-groups")
def get_subscriber_cugs(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[ClosedUserGroup]:
    return _features(request).cugs.groups_of_subscriber(actor, subscriber_id)


@router.put(f"{SUB}/closed-user-groups", summary="Make the subscriber a member of these groups")
def put_subscriber_cugs(
    request: Request,
    subscriber_id: int,
    body: SubscriberCugsBody,
    actor: Actor = Depends(current_actor),
) -> list[ClosedUserGroup]:
    return _features(request).cugs.set_groups_of_subscriber(
        actor, subscriber_id, body.closed_user_groups
    )


# -- zones -------------------------------------------------------------------------------------


@router.get(f"{SUB}/zones")
def list_zones(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[ZoneOut]:
    return [_zone_out(z) for z in _features(request).zones.list_zones(actor, subscriber_id)]


@router.post(f"{SUB}/zones/{{zone}}/shapes", status_code=201, summary="Add a shape")
def add_shape(
    request: Request,
    subscriber_id: int,
    zone: str,
    body: ShapeBody,
    actor: Actor = Depends(current_actor),
) -> ZoneOut:
    zones = _features(request).zones
    return _zone_out(zones.add_shape(actor, subscriber_id, zone, _shape(body)))


@router.put(f"{SUB}/zones/{{zone}}/shapes/{{shape_id}}")
def put_shape(
    request: Request,
    subscriber_id: int,
    zone: str,
    shape_id: int,
    body: ShapeBody,
    actor: Actor = Depends(current_actor),
) -> ZoneOut:
    zones = _features(request).zones
    return _zone_out(zones.update_shape(actor, subscriber_id, zone, shape_id, _shape(body)))


@router.delete(f"{SUB}/zones/{{zone}}/shapes/{{shape_id}}", status_code=204)
def delete_shape(
    request: Request,
    subscriber_id: int,
    zone: str,
    shape_id: int,
    actor: Actor = Depends(current_actor),
) -> Response:
    _features(request).zones.delete_shape(actor, subscriber_id, zone, shape_id)
    return _no_content()


@router.delete(f"{SUB}/zones/{{zone}}", status_code=204)
def delete_zone(
    request: Request, subscriber_id: int, zone: str, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).zones.delete_zone(actor, subscriber_id, zone)
    return _no_content()


# -- comments ----------------------------------------------------------------------------------


@router.get(f"{SUB}/comments")
def list_comments(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[Comment]:
    return _features(request).comments.list_comments(actor, subscriber_id)


@router.post(f"{SUB}/comments", status_code=201)
def add_comment(
    request: Request, subscriber_id: int, body: CommentBody, actor: Actor = Depends(current_actor)
) -> Comment:
    return _features(request).comments.add(actor, subscriber_id, body.text)


@router.put(f"{SUB}/comments/{{comment_id}}")
def edit_comment(
    request: Request,
    subscriber_id: int,
    comment_id: int,
    body: CommentBody,
    actor: Actor = Depends(current_actor),
) -> Comment:
    return _features(request).comments.edit(actor, subscriber_id, comment_id, body.text)


@router.delete(f"{SUB}/comments/{{comment_id}}", status_code=204)
def delete_comment(
    request: Request, subscriber_id: int, comment_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).comments.delete(actor, subscriber_id, comment_id)
    return _no_content()


# -- profile group fields ----------------------------------------------------------------------


@router.get(f"{SP}/profile-groups")
def list_profile_groups(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> list[ProfileGroup]:
    return _features(request).profiles.list_groups(actor, code)


@router.post(f"{SP}/profile-groups", status_code=201)
def create_profile_group(
    request: Request, code: str, body: GroupBody, actor: Actor = Depends(current_actor)
) -> ProfileGroup:
    profiles = _features(request).profiles
    return profiles.create_group(actor, code, body.name, body.permission_name)


@router.get("/profile-groups/{group_id}", summary="A group with its fields in display order")
def get_profile_group(
    request: Request, group_id: int, actor: Actor = Depends(current_actor)
) -> GroupOut:
    profiles = _features(request).profiles
    group = profiles.get_group(actor, group_id)
    return GroupOut(group=group, fields=profiles.list_fields(actor, group_id))


@router.patch("/profile-groups/{group_id}", summary="Rename; the permission name stays")
def rename_profile_group(
    request: Request, group_id: int, body: GroupRename, actor: Actor = Depends(current_actor)
) -> ProfileGroup:
    return _features(request).profiles.rename_group(actor, group_id, body.name)


@router.delete("/profile-groups/{group_id}", status_code=204)
def delete_profile_group(
    request: Request, group_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).profiles.delete_group(actor, group_id)
    return _no_content()


@router.post("/profile-groups/{group_id}/fields", status_code=201)
def add_profile_field(
    request: Request, group_id: int, body: FieldBody, actor: Actor = Depends(current_actor)
) -> ProfileField:
    return _features(request).profiles.add_field(actor, group_id, FieldInput(**body.model_dump()))


@router.patch("/profile-fields/{field_id}", summary="Display name and position")
def update_profile_field(
    request: Request, field_id: int, body: FieldUpdate, actor: Actor = Depends(current_actor)
) -> ProfileField:
    return _features(request).profiles.update_field(
        actor, field_id, body.display_name, body.group_order, body.sub_order
    )


@router.delete("/profile-fields/{field_id}", status_code=204)
def delete_profile_field(
    request: Request, field_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).profiles.delete_field(actor, field_id)
    return _no_content()


@router.get(f"{SUB}/profile", summary="The subscriber's profile field values")
def get_profile(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[ProfileEntryOut]:
    entries = _features(request).profiles.subscriber_profile(actor, subscriber_id)
    return [ProfileEntryOut(field=e.field, value=e.value) for e in entries]


@router.put(f"{SUB}/profile/{{field_id}}")
def put_profile_value(
    request: Request,
    subscriber_id: int,
    field_id: int,
    body: ValueBody,
    actor: Actor = Depends(current_actor),
) -> ProfileEntryOut:
    entry = _features(request).profiles.set_value(actor, subscriber_id, field_id, body.value)
    return ProfileEntryOut(field=entry.field, value=entry.value)


@router.delete(f"{SUB}/profile/{{field_id}}", status_code=204)
def delete_profile_value(
    request: Request, subscriber_id: int, field_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _features(request).profiles.clear_value(actor, subscriber_id, field_id)
    return _no_content()
