"""Subscriber features over the REST API on a real socket: PIN secrecy, refusals as
problem+json naming the field, CUG screening, privileges and the change reason header."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.features import add_subscriber, load_feature_basics
from tests.support.http_server import serve_in_thread

ADMIN = ("root", "root-password-1")
ANN = ("ann", "ann-password-1")
BOB = ("bob", "bob-password-1")
PIN = "739164"
A, B = "31600000001", "31600000002"


@pytest.fixture
def api(services: Services, admin: Actor) -> Iterator[httpx.Client]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *ANN, "read_modify")
    services.operators.create(admin, *BOB, "read_modify")
    load_feature_basics(services, admin)
    add_subscriber(services, admin, A)
    add_subscriber(services, admin, B)
    with (
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield client


def _subscriber_id(api: httpx.Client, msisdn: str) -> int:
    found = api.get("/subscribers", params={"service_provider": PROVIDER, "q": msisdn})
    return int(found.json()[0]["id"])


def test_the_pin_never_leaves_the_server(api: httpx.Client) -> None:
    sub = _subscriber_id(api, A)
    body = {"pin_defined": True, "pin": PIN, "pin_confirmation": PIN, "description": "VIP"}
    written = api.put(f"/subscribers/{sub}/details", json=body)
    assert written.status_code == 200
    assert written.json()["pin_defined"] is True
    read = api.get(f"/subscribers/{sub}/details")
    assert read.json() == {
        "description": "VIP",
        "pin_defined": True,
        "subscriber_id_restricted": False,
        "incoming_calls_disabled_when_roaming": False,
        "blacklisted": False,
        "sms_notifications_disabled": False,
        "remote_access_allowed": False,
    }
    assert api.post(f"/subscribers/{sub}/pin-check", json={"pin": PIN}).json() == {"valid": True}
    assert api.post(f"/subscribers/{sub}/pin-check", json={"pin": "1111"}).json() == {
        "valid": False
    }
    mismatch = api.put(
        f"/subscribers/{sub}/details",
        json={**body, "pin_confirmation": "739165", "description": "changed"},
    )
    assert mismatch.status_code == 422
    assert mismatch.headers["content-type"] == "application/problem+json"
    assert (mismatch.json()["type"], mismatch.json()["field"]) == (
        "urn:ocs:problem:invalid-value", "pin_confirmation",
    )  # fmt: skip
    assert api.get(f"/subscribers/{sub}/details").json()["description"] == "VIP"
    audit = api.get("/audit", params={"entity": "subscriber-details"})
    assert audit.status_code == 200
    assert len(audit.json()) == 1
    for response in (written, read, mismatch, audit):
        assert PIN not in response.text
    unticked = api.put(f"/subscribers/{sub}/details", json={"pin_defined": False})
    assert unticked.json()["pin_defined"] is False


def test_black_list_limits_over_http(api: httpx.Client) -> None:
    path = f"/service-providers/{PROVIDER}/ff-blacklist"
    full = [f"3169{i:03d}" for i in range(100)]
    assert api.put(path, json={"numbers": full}).json() == full
    extra = api.post(f"{path}/numbers", json={"number": "3170"})
    assert (extra.status_code, extra.json()["field"]) == (409, "number")
    too_long = api.put(f"/service-providers/{PROVIDER}/fd-blacklist", json={"numbers": ["1" * 33]})
    assert (too_long.status_code, too_long.json()["field"]) == (422, "numbers")
    assert api.get(f"/service-providers/{PROVIDER}/fd-blacklist").json() == []
    sub = _subscriber_id(api, A)
    friend = api.put(f"/subscribers/{sub}/friends", json={"ff_numbers": [full[0]]})
    assert (friend.status_code, friend.json()["field"]) == (422, "ff_numbers")
    assert api.delete(f"{path}/numbers/{full[0]}").json() == full[1:]
    assert api.get("/service-providers/NOPE/ff-blacklist").status_code == 404


def test_cug_journey_and_screening(api: httpx.Client) -> None:
    created = api.post(
        "/closed-user-groups",
        json={
            "service_provider": PROVIDER,
            "name": "Office",
            "tariff_plan": "CUG_FREE",
            "members": [A],
            "virtual_members": [{"kind": "RANGE", "number": "3170100", "last_number": "3170199"}],
        },
    )
    assert created.status_code == 201
    cug = created.json()
    b = _subscriber_id(api, B)
    joined = api.put(
        f"/subscribers/{b}/closed-user-groups", json={"closed_user_groups": [cug["id"]]}
    )
    assert [g["name"] for g in joined.json()] == ["Office"]
    assert api.get(f"/closed-user-groups/{cug['id']}").json()["members"] == [A, B]
    assert [g["id"] for g in api.get("/closed-user-groups", params={"msisdn": B}).json()] == [
        cug["id"]
    ]
    a = _subscriber_id(api, A)
    screening = api.get(f"/subscribers/{a}/screening", params={"dialled": B}).json()
    assert screening["cug"]["tariff_plan"] == "CUG_FREE"
    assert screening["cug"]["kind"] == "MEMBER"
    virtual = api.get(f"/subscribers/{a}/screening", params={"dialled": "3170150"}).json()
    assert virtual["cug"]["kind"] == "VIRTUAL_MEMBER"
    renamed = api.put(
        f"/closed-user-groups/{cug['id']}", json={"name": "Other", "tariff_plan": "CUG_FREE"}
    )
    assert (renamed.status_code, renamed.json()["type"]) == (
        422, "urn:ocs:problem:immutable-field",
    )  # fmt: skip
    assert api.delete(f"/closed-user-groups/{cug['id']}").status_code == 204


def test_zone_shapes_over_http(api: httpx.Client) -> None:
    sub = _subscriber_id(api, A)
    circle = {"kind": "CIRCLE", "longitude_deg": 4.89512, "latitude_deg": "52.37", "radius_km": 2}
    added = api.post(f"/subscribers/{sub}/zones/Home/shapes", json=circle)
    assert added.status_code == 201
    shape = added.json()["shapes"][0]
    assert (shape["longitude_deg"], shape["latitude_deg"], shape["radius_km"]) == (
        "4.89512", "52.37000", "2.0000000",
    )  # fmt: skip
    upside_down = {"kind": "RECTANGLE", "west_deg": 1, "north_deg": 1, "east_deg": 2,
                   "south_deg": 2}  # fmt: skip
    refused = api.post(f"/subscribers/{sub}/zones/Home/shapes", json=upside_down)
    assert (refused.status_code, refused.json()["field"]) == (422, "north_deg")
    assert len(api.get(f"/subscribers/{sub}/zones").json()[0]["shapes"]) == 1
    stranger = api.post(f"/subscribers/{sub}/zones/Home/shapes", json={**circle, "x": 1})
    assert (stranger.status_code, stranger.json()["field"]) == (422, "x")


def test_comment_privileges_over_http(api: httpx.Client) -> None:
    sub = _subscriber_id(api, A)
    path = f"/subscribers/{sub}/comments"
    note = api.post(path, json={"text": "ann's note"}, auth=ANN)
    assert note.status_code == 201
    assert note.json()["author"] == "ann"
    edit = api.put(f"{path}/{note.json()['id']}", json={"text": "bob's now"}, auth=BOB)
    assert (edit.status_code, edit.json()["type"]) == (403, "urn:ocs:problem:forbidden")
    long = api.post(path, json={"text": "x" * 51}, auth=ANN)
    assert (long.status_code, long.json()["field"]) == (422, "text")
    assert [c["text"] for c in api.get(path, auth=BOB).json()] == ["ann's note"]
    assert api.delete(f"{path}/{note.json()['id']}").status_code == 204


def test_profile_groups_over_http(api: httpx.Client) -> None:
    group = api.post(f"/service-providers/{PROVIDER}/profile-groups", json={"name": "Loyalty"})
    assert group.json()["permission_name"] == "SP1-Loyalty"
    field = api.post(
        f"/profile-groups/{group.json()['id']}/fields",
        json={"display_name": "Card", "tag_name": "Card", "tag_type": "LNSTRING",
              "group_order": 1, "sub_order": 1, "limit": 4},
    )  # fmt: skip
    assert field.status_code == 201
    assert field.json()["permission_name"] == "SP1-Loyalty-Card"
    sub = _subscriber_id(api, A)
    value_path = f"/subscribers/{sub}/profile/{field.json()['id']}"
    assert api.put(value_path, json={"value": "0123"}).json()["value"] == "0123"
    too_long = api.put(value_path, json={"value": "01234"})
    assert (too_long.status_code, too_long.json()["field"]) == (422, "Card")
    profile = api.get(f"/subscribers/{sub}/profile").json()
    assert [(e["field"]["tag_name"], e["value"]) for e in profile] == [("Card", "0123")]
    shown = api.get(f"/profile-groups/{group.json()['id']}").json()
    assert [f["display_name"] for f in shown["fields"]] == ["Card"]


def test_feature_changes_need_the_change_reason_header(api: httpx.Client) -> None:
    assert api.put("/settings/edr-auditing", json={"enabled": True}).status_code == 200
    sub = _subscriber_id(api, A)
    body = {"list_type": "BARRED", "numbers": ["0900"]}
    refused = api.put(f"/subscribers/{sub}/call-barring", json=body)
    assert (refused.status_code, refused.json()["field"]) == (428, "change_reason")
    assert api.get(f"/subscribers/{sub}/call-barring").json()["numbers"] == []
    accepted = api.put(
        f"/subscribers/{sub}/call-barring", json=body, headers={"X-Change-Reason": "fraud"}
    )
    assert accepted.json() == {"list_type": "BARRED", "ignore": False, "numbers": ["0900"]}
    audit = api.get("/audit", params={"entity": "call-barring"}).json()
    assert (audit[0]["operator"], audit[0]["change_reason"]) == ("root", "fraud")


def test_openapi_lists_the_feature_paths(api: httpx.Client) -> None:
    base = f"http://{api.base_url.host}:{api.base_url.port}"
    # Generating the whole schema takes seconds on a busy 2-core machine.
    paths = httpx.get(f"{base}/openapi.json", timeout=60).json()["paths"]
    for path in (
        "/api/v1/subscribers/{subscriber_id}/details",
        "/api/v1/closed-user-groups",
        "/api/v1/service-providers/{code}/ff-blacklist",
        "/api/v1/service-providers/{code}/fd-blacklist/numbers",
        "/api/v1/service-providers/{code}/fd-prefix-map/{prefix}",
        "/api/v1/subscribers/{subscriber_id}/zones/{zone}/shapes",
        "/api/v1/profile-groups/{group_id}/fields",
    ):
        assert path in paths
