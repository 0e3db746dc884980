"""Notifications over the REST API on a real socket: templates refused at save time, webhook
secrets that never come back, delivery state with attempts and last error, and retry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.core.notifications import (
    SIGNATURE_HEADER,
    NotificationEvent,
    NotificationKind,
    verify_signature,
)
from ocs.service.actor import Actor
from ocs.service.casm import ResourceInput
from ocs.service.notifications import enqueue_notification
from tests.support.clock import FakeClock
from tests.support.http_server import serve_in_thread
from tests.support.notify_servers import HttpSink, http_sink
from tests.support.wallets import load_wallet_catalog, new_subscriber

ADMIN = ("root", "root-password-1")
ANN = ("ann", "ann-password-1")
SECRET = "rest-secret-0123456789"


@dataclass
class Api:
    client: httpx.Client
    base: str
    services: Services
    clock: FakeClock
    hooks: HttpSink
    subscriber: int


@pytest.fixture
def api(services: Services, admin: Actor, clock: FakeClock) -> Iterator[Api]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *ANN, "read_modify")
    load_wallet_catalog(services, admin)
    subscriber = new_subscriber(services, admin)
    services.casm.add_resource(admin, subscriber, ResourceInput("MSISDN", "31699990001"))
    with (
        http_sink() as hooks,
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield Api(client, f"{base}/api/v1", services, clock, hooks, subscriber)


def _raise(api: Api, key: str) -> None:
    event = NotificationEvent(
        NotificationKind.EXHAUSTED, api.subscriber, api.clock.now(), key,
        {"balance": "DATA", "granted": 1000, "unit": "MB"},
    )  # fmt: skip
    with api.services.store.transaction() as uow:
        enqueue_notification(uow, event)


def test_templates_crud_and_refusal_naming_the_field(api: Api) -> None:
    url = "/notification-templates/EXHAUSTED/SMS/pt"
    bad = api.client.put(url, json={"body": "Acabou ${remainder}"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "body"
    assert "remainder" in bad.json()["detail"]

    put = api.client.put(url, json={"body": "Acabou o seu pacote ${balance}."})
    assert put.status_code == 200
    assert put.json()["language"] == "pt"
    listed = api.client.get("/notification-templates").json()
    assert [(t["kind"], t["channel"], t["language"]) for t in listed] == [
        ("EXHAUSTED", "SMS", "pt")
    ]
    preview = api.client.post(
        "/notification-templates/EXHAUSTED/SMS/preview",
        json={"language": "pt-br", "params": {"balance": "DATA"}},
    )
    assert preview.json() == {"subject": None, "body": "Acabou o seu pacote DATA."}
    assert api.client.delete(url).status_code == 204
    assert api.client.get(url).status_code == 404


def test_webhook_secret_is_write_only(api: Api) -> None:
    body = {"name": "crm", "url": api.hooks.url, "secret": SECRET, "kinds": ["EXHAUSTED"]}
    created = api.client.post("/notification-webhooks", json=body)
    assert created.status_code == 201
    assert "secret" not in created.json()
    assert SECRET not in api.client.get("/notification-webhooks").text
    duplicate = api.client.post("/notification-webhooks", json=body)
    assert duplicate.status_code == 409
    ann = httpx.get(f"{api.base}/notification-webhooks", auth=ANN)
    assert ann.status_code == 403


def test_delivery_state_is_visible_and_a_failed_one_can_be_retried(api: Api) -> None:
    api.client.put(
        f"/subscribers/{api.subscriber}/notification-contact",
        json={"email": "ana@example.com", "language": "nl"},
    )
    recipient = api.client.get(f"/subscribers/{api.subscriber}/notification-recipient").json()
    assert (recipient["email"], recipient["msisdn"], recipient["language"]) == (
        "ana@example.com", "31699990001", "nl",
    )  # fmt: skip
    hook = {"name": "crm", "url": api.hooks.url + "/in", "secret": SECRET, "kinds": ["EXHAUSTED"]}
    api.client.post("/notification-webhooks", json=hook)
    api.hooks.status = 410  # the receiver refuses for good: no retries
    _raise(api, "grant:9:exhausted")

    api.services.notification_delivery.run_once()

    listed = api.client.get(
        "/notification-deliveries", params={"subscriber_id": api.subscriber}
    ).json()
    by_channel = {d["channel"]: d for d in listed}
    # No SMTP server or SMS gateway is configured in this deployment.
    assert by_channel["EMAIL"]["state"] == "SKIPPED"
    assert by_channel["EMAIL"]["last_error"] == "no EMAIL channel is configured"
    failed = by_channel["WEBHOOK"]
    assert (failed["state"], failed["attempts"]) == ("FAILED", 1)
    assert "HTTP 410" in failed["last_error"]
    only_failed = api.client.get("/notification-deliveries", params={"state": "FAILED"}).json()
    assert [d["id"] for d in only_failed] == [failed["id"]]

    ann_retry = httpx.post(f"{api.base}/notification-deliveries/{failed['id']}/retry", auth=ANN)
    assert ann_retry.status_code == 403
    api.hooks.status = 200
    retried = api.client.post(f"/notification-deliveries/{failed['id']}/retry")
    assert retried.json()["state"] == "PENDING"
    api.services.notification_delivery.run_once()

    shown = api.client.get(f"/notification-deliveries/{failed['id']}").json()
    assert (shown["state"], shown["attempts"]) == ("SENT", 1)
    assert len(api.hooks.requests) == 1
    request = api.hooks.requests[0]
    now_s = int(api.clock.now().timestamp())
    assert verify_signature(SECRET, request.headers[SIGNATURE_HEADER.lower()], request.body, now_s)
    again = api.client.post(f"/notification-deliveries/{failed['id']}/retry")
    assert again.status_code == 409
    counts = api.client.get("/notification-deliveries/counts").json()
    assert (counts["SENT"], counts["SKIPPED"], counts["FAILED"]) == (1, 2, 0)
