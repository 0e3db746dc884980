"""Notifications on both backends: the outbox, expansion into deliveries, and the worker
delivering to a real SMTP server and real HTTP endpoints on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ocs.adapters.notify_email import SmtpEmailSender, SmtpSettings
from ocs.adapters.notify_sms import HttpSmsGatewaySender, SmsGatewaySettings
from ocs.adapters.notify_webhook import WebhookSender
from ocs.bootstrap import Services
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.notifications import (
    SIGNATURE_HEADER,
    Delivery,
    DeliveryState,
    NotificationChannel,
    NotificationEvent,
    NotificationKind,
    verify_signature,
)
from ocs.service.actor import Actor
from ocs.service.casm import ResourceInput
from ocs.service.notification_delivery import DeliverySettings, NotificationDelivery, RunResult
from ocs.service.notification_ports import NotificationSender
from ocs.service.notifications import (
    DeliveryFilter,
    TemplateInput,
    WebhookInput,
    enqueue_notification,
)
from ocs.service.subscriber_features import DetailsInput
from ocs.storage.notification_tables import notification_outbox
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.clock import FakeClock
from tests.support.locks import run_beside, writer_holding_the_database
from tests.support.notify_servers import HttpSink, SmtpSink, http_sink, smtp_sink
from tests.support.wallets import load_wallet_catalog, new_subscriber

SECRET = "webhook-secret-0123456789"
EMAIL, SMS, WEBHOOK = (
    NotificationChannel.EMAIL,
    NotificationChannel.SMS,
    NotificationChannel.WEBHOOK,
)
PARAMS: dict[str, str | int] = {
    "balance": "DATA",
    "unit": "MB",
    "granted": 1000,
    "remaining": 200,
    "threshold_percent": 80,
}


@dataclass
class Rig:
    services: Services
    clock: FakeClock
    admin: Actor
    smtp: SmtpSink
    sms_gateway: HttpSink
    hooks: HttpSink
    worker: NotificationDelivery

    def subscriber(
        self,
        email: str | None = "ana@example.com",
        msisdn: str | None = "31611110001",
        sms_disabled: bool = False,
        language: str | None = None,
    ) -> int:
        subscriber = new_subscriber(self.services, self.admin)
        if msisdn is not None:
            self.services.casm.add_resource(self.admin, subscriber, ResourceInput("MSISDN", msisdn))
        if sms_disabled:
            self.services.features.subscribers.update_details(
                self.admin, subscriber, DetailsInput(sms_notifications_disabled=True)
            )
        self.services.notifications.put_contact(self.admin, subscriber, email, language)
        return subscriber

    def raise_event(
        self,
        subscriber: int,
        key: str,
        kind: NotificationKind = NotificationKind.THRESHOLD,
        params: dict[str, str | int] | None = None,
    ) -> None:
        event = NotificationEvent(kind, subscriber, self.clock.now(), key, params or PARAMS)
        with self.services.store.transaction() as uow:
            enqueue_notification(uow, event)

    def deliveries(self, subscriber: int | None = None) -> dict[NotificationChannel, Delivery]:
        found = self.services.notifications.list_deliveries(
            self.admin, DeliveryFilter(subscriber_id=subscriber)
        )
        return {d.channel: d for d in found}

    def webhook(self, name: str = "crm", provider: str | None = None, path: str = "/crm") -> None:
        kinds = ("THRESHOLD", "EXHAUSTED")
        inp = WebhookInput(name, self.hooks.url + path, SECRET, kinds, provider)
        self.services.notifications.create_webhook(self.admin, inp)


@pytest.fixture
def rig(services: Services, clock: FakeClock, admin: Actor) -> Iterator[Rig]:
    load_wallet_catalog(services, admin)
    with smtp_sink(started=False) as smtp, http_sink() as gateway, http_sink() as hooks:
        senders: dict[NotificationChannel, NotificationSender] = {
            EMAIL: SmtpEmailSender(
                SmtpSettings("127.0.0.1", smtp.port, "ocs@example.com", timeout_s=5)
            ),
            SMS: HttpSmsGatewaySender(SmsGatewaySettings(gateway.url + "/sms", "OCS", "tok")),
            WEBHOOK: WebhookSender(clock.now, timeout_s=5),
        }
        settings = DeliverySettings(max_attempts=4, retry_base_delay_s=30, lease_s=120)
        worker = NotificationDelivery(services.store, clock, senders, settings)
        yield Rig(services, clock, admin, smtp, gateway, hooks, worker)


def _outbox_rows(services: Services) -> list[sa.Row[tuple[object, ...]]]:
    with services.engine.connect() as conn:
        return list(conn.execute(sa.select(notification_outbox)))


# -- the outbox --------------------------------------------------------------------------------


def test_duplicate_dedup_key_enqueues_once(rig: Rig) -> None:
    subscriber = rig.subscriber()
    rig.raise_event(subscriber, "grant:1:threshold:80")
    rig.raise_event(subscriber, "grant:1:threshold:80")
    with rig.services.store.transaction() as uow:
        event = NotificationEvent(
            NotificationKind.THRESHOLD, subscriber, rig.clock.now(), "grant:1:threshold:80"
        )
        enqueue_notification(uow, event)
        enqueue_notification(uow, event)
    rows = _outbox_rows(rig.services)
    assert [(r.dedup_key, r.kind, r.subscriber_id) for r in rows] == [
        ("grant:1:threshold:80", "THRESHOLD", subscriber)
    ]
    assert json.loads(str(rows[0].params))["threshold_percent"] == 80
    rig.smtp.start()
    rig.worker.run_once()
    assert len(rig.smtp.inbox) == 1


def test_event_rolls_back_with_the_change_that_caused_it(rig: Rig) -> None:
    subscriber = rig.subscriber()
    event = NotificationEvent(NotificationKind.EXHAUSTED, subscriber, rig.clock.now(), "x:1")

    def failing_change() -> None:
        with rig.services.store.transaction() as uow:
            enqueue_notification(uow, event)
            raise RuntimeError("the charging change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert _outbox_rows(rig.services) == []


def test_enqueue_refuses_an_empty_dedup_key(rig: Rig) -> None:
    event = NotificationEvent(NotificationKind.EXHAUSTED, 1, rig.clock.now(), "")
    with pytest.raises(DomainError) as caught, rig.services.store.transaction() as uow:
        enqueue_notification(uow, event)
    assert caught.value.field == "dedup_key"


# -- expansion and delivery --------------------------------------------------------------------


def test_sms_disabled_subscriber_gets_email_but_no_sms(rig: Rig) -> None:
    rig.smtp.start()
    quiet = rig.subscriber("quiet@example.com", "31611110001", sms_disabled=True)
    chatty = rig.subscriber("chatty@example.com", "31611110002")
    rig.raise_event(quiet, "g:1:t:80")
    rig.raise_event(chatty, "g:2:t:80")

    result = rig.worker.run_once()

    assert (result.expanded, result.sent) == (2, 3)
    quiet_deliveries = rig.deliveries(quiet)
    assert quiet_deliveries[EMAIL].state is DeliveryState.SENT
    assert quiet_deliveries[SMS].state is DeliveryState.SKIPPED
    assert quiet_deliveries[SMS].last_error == "the subscriber has Disable SMS Notifications set"
    assert quiet_deliveries[SMS].attempts == 0
    assert sorted(m.recipients for m in rig.smtp.inbox) == [
        ("chatty@example.com",),
        ("quiet@example.com",),
    ]
    mail = next(m for m in rig.smtp.inbox if m.recipients == ("quiet@example.com",))
    assert mail.message["Subject"] == "You have used 80% of your DATA allowance"
    assert "200 of 1000 MB left" in mail.message.get_payload()
    sms = [json.loads(r.body) for r in rig.sms_gateway.requests]
    assert [s["to"] for s in sms] == ["31611110002"]
    assert sms[0]["text"] == "80% of your DATA allowance used: 200 MB left."
    assert rig.sms_gateway.requests[0].headers["authorization"] == "Bearer tok"


def test_missing_contact_data_is_skipped_with_the_reason(rig: Rig) -> None:
    subscriber = rig.subscriber(email=None, msisdn=None)
    rig.raise_event(subscriber, "g:1:t:80")
    rig.worker.run_once()
    found = rig.deliveries(subscriber)
    assert {c: (d.state, d.last_error) for c, d in found.items()} == {
        EMAIL: (DeliveryState.SKIPPED, "the subscriber has no e-mail address"),
        SMS: (DeliveryState.SKIPPED, "the subscriber has no MSISDN"),
    }


def test_channels_down_for_a_while_are_retried_and_deliver_exactly_once(rig: Rig) -> None:
    rig.hooks.fail_first = 2
    rig.sms_gateway.fail_first = 1
    rig.webhook()
    subscriber = rig.subscriber()
    rig.raise_event(subscriber, "g:1:t:80")

    first = rig.worker.run_once()  # SMTP refuses connections, both HTTP ends answer 503
    assert (first.sent, first.retrying) == (0, 3)
    found = rig.deliveries(subscriber)
    assert all(d.state is DeliveryState.PENDING and d.attempts == 1 for d in found.values())
    assert "503" in (found[WEBHOOK].last_error or "")
    assert "ConnectionRefused" in (found[EMAIL].last_error or "")
    assert found[EMAIL].next_attempt_at == rig.clock.now().replace() + _s(30)

    assert rig.worker.run_once().sent == 0  # nothing is due before the backoff
    rig.clock.advance(30)
    second = rig.worker.run_once()  # SMS gateway is back; webhook still 503; SMTP down
    assert (second.sent, second.retrying) == (1, 2)
    assert rig.deliveries(subscriber)[WEBHOOK].next_attempt_at == rig.clock.now() + _s(60)

    rig.smtp.start()
    rig.clock.advance(60)
    third = rig.worker.run_once()
    assert (third.sent, third.retrying) == (2, 0)
    received_at_s = int(rig.clock.now().timestamp())
    rig.clock.advance(86400)
    assert rig.worker.run_once().sent == 0

    final = rig.deliveries(subscriber)
    assert {c: (d.state, d.attempts) for c, d in final.items()} == {
        EMAIL: (DeliveryState.SENT, 3),
        SMS: (DeliveryState.SENT, 2),
        WEBHOOK: (DeliveryState.SENT, 3),
    }
    assert len(rig.smtp.inbox) == 1
    assert len(rig.sms_gateway.requests) == 1
    assert len(rig.hooks.requests) == 1
    request = rig.hooks.requests[0]
    now_s = received_at_s
    assert verify_signature(SECRET, request.headers[SIGNATURE_HEADER.lower()], request.body, now_s)
    # A day later the same request is a replay.
    header = request.headers[SIGNATURE_HEADER.lower()]
    assert not verify_signature("not-the-secret-at-all", header, request.body, now_s)
    # The same request a day later is a replay.
    assert not verify_signature(SECRET, header, request.body, now_s + 86400)
    payload = json.loads(request.body)
    assert (payload["kind"], payload["subscriber_id"], payload["service_provider"]) == (
        "THRESHOLD", subscriber, PROVIDER,
    )  # fmt: skip
    assert payload["params"]["threshold_percent"] == 80
    assert request.headers["x-ocs-delivery"] == str(final[WEBHOOK].id)


def test_failed_after_max_attempts_then_operator_retry_delivers(rig: Rig) -> None:
    rig.hooks.fail_first = 1000
    rig.webhook()
    subscriber = rig.subscriber(email=None, msisdn=None)
    rig.raise_event(subscriber, "g:1:t:80")
    for _ in range(4):
        rig.worker.run_once()
        rig.clock.advance(3600)
    failed = rig.deliveries(subscriber)[WEBHOOK]
    assert (failed.state, failed.attempts) == (DeliveryState.FAILED, 4)
    assert "HTTP 503" in (failed.last_error or "")
    listed = rig.services.notifications.list_deliveries(
        rig.admin, DeliveryFilter(state="FAILED", kind="THRESHOLD")
    )
    assert [d.id for d in listed] == [failed.id]
    assert rig.worker.run_once().sent == 0  # FAILED stays failed

    rig.hooks.fail_first = 0
    retried = rig.services.notifications.retry(rig.admin, failed.id)
    assert (retried.state, retried.attempts) == (DeliveryState.PENDING, 0)
    assert rig.worker.run_once().sent == 1
    done = rig.services.notifications.get_delivery(rig.admin, failed.id)
    assert (done.state, done.attempts, done.sent_at) == (DeliveryState.SENT, 1, rig.clock.now())
    with pytest.raises(DomainError) as caught:
        rig.services.notifications.retry(rig.admin, failed.id)
    assert caught.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE


def test_a_crashed_workers_claim_is_retried_after_its_lease(rig: Rig) -> None:
    rig.webhook()
    subscriber = rig.subscriber(email=None, msisdn=None)
    rig.raise_event(subscriber, "g:1:t:80")
    rig.worker.expand(rig.clock.now())
    with rig.services.store.transaction() as uow:  # a worker claims, then dies before sending
        claimed = uow.notifications.claim_due(rig.clock.now(), rig.clock.now() + _s(120), 10)
    assert [d.state for d in claimed] == [DeliveryState.SENDING]

    assert rig.worker.run_once().sent == 0  # still leased to the dead worker
    rig.clock.advance(121)
    assert rig.worker.run_once().sent == 1
    assert len(rig.hooks.requests) == 1
    done = rig.deliveries(subscriber)[WEBHOOK]
    assert (done.state, done.attempts, done.lease_expires_at) == (DeliveryState.SENT, 2, None)

    # The dead worker's late report cannot overwrite the newer outcome.
    with rig.services.store.transaction() as uow:
        stale = claimed[0]
        assert not uow.notifications.finish_delivery(stale, DeliveryState.SENDING, stale.attempts)


def test_webhook_subscriptions_filter_by_kind_and_provider(rig: Rig) -> None:
    rig.webhook("mine", PROVIDER, "/mine")
    rig.webhook("theirs", OTHER_PROVIDER, "/theirs")
    subscriber = rig.subscriber(email=None, msisdn=None)
    rig.raise_event(subscriber, "g:1:t:80")
    rig.raise_event(subscriber, "g:1:recurrence:1", NotificationKind.RECURRENCE)
    rig.worker.run_once()
    assert [(r.path, json.loads(r.body)["kind"]) for r in rig.hooks.requests] == [
        ("/mine", "THRESHOLD")
    ]


# -- templates ---------------------------------------------------------------------------------


def test_templates_per_language_with_fallback(rig: Rig) -> None:
    rig.smtp.start()
    service = rig.services.notifications
    service.put_template(
        rig.admin,
        TemplateInput("THRESHOLD", "EMAIL", "pt", "Usou ${threshold_percent}% de ${balance}.",
                      "Aviso de ${balance}"),
    )  # fmt: skip
    service.put_template(
        rig.admin, TemplateInput("THRESHOLD", "EMAIL", "en", "Used ${threshold_percent}%.", "Alert")
    )
    brazilian = rig.subscriber("pt@example.com", None, language="pt-BR")
    french = rig.subscriber("fr@example.com", None, language="fr")
    rig.raise_event(brazilian, "g:1:t:80")
    rig.raise_event(french, "g:2:t:80")
    rig.worker.run_once()
    bodies = {m.recipients[0]: (m.message["Subject"], str(m.message.get_payload()).strip())
              for m in rig.smtp.inbox}  # fmt: skip
    assert bodies == {
        "pt@example.com": ("Aviso de DATA", "Usou 80% de DATA."),
        "fr@example.com": ("Alert", "Used 80%."),
    }


def test_template_with_unknown_parameter_is_refused_at_save_time(rig: Rig) -> None:
    with pytest.raises(DomainError) as caught:
        rig.services.notifications.put_template(
            rig.admin, TemplateInput("EXHAUSTED", "SMS", "en", "${threshold_percent}% used")
        )
    assert caught.value.field == "body"
    assert "threshold_percent" in caught.value.detail
    assert rig.services.notifications.list_templates(rig.admin) == []


def test_event_missing_a_template_parameter_fails_visibly(rig: Rig) -> None:
    rig.smtp.start()
    subscriber = rig.subscriber(msisdn=None)
    rig.raise_event(subscriber, "g:1:t:80", params={"balance": "DATA"})
    rig.worker.run_once()
    email = rig.deliveries(subscriber)[EMAIL]
    assert email.state is DeliveryState.FAILED
    assert "no parameter 'threshold_percent'" in (email.last_error or "")
    assert rig.smtp.inbox == []


def test_deliveries_filter_by_subscriber_state_and_kind(rig: Rig) -> None:
    rig.smtp.start()
    one = rig.subscriber(msisdn=None)
    two = rig.subscriber(msisdn=None)
    rig.raise_event(one, "a", NotificationKind.THRESHOLD)
    rig.raise_event(two, "b", NotificationKind.EXHAUSTED)
    rig.worker.run_once()
    service = rig.services.notifications
    by_kind = service.list_deliveries(rig.admin, DeliveryFilter(kind="EXHAUSTED"))
    assert {(d.subscriber_id, d.channel) for d in by_kind} == {(two, EMAIL), (two, SMS)}
    sent = service.list_deliveries(rig.admin, DeliveryFilter(subscriber_id=one, state="SENT"))
    assert [(d.channel, d.recipient) for d in sent] == [(EMAIL, "ana@example.com")]
    with pytest.raises(DomainError) as caught:
        service.list_deliveries(rig.admin, DeliveryFilter(state="LOST"))
    assert caught.value.field == "state"


def _s(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def test_a_pass_with_nothing_to_do_does_not_wait_for_a_writer(rig: Rig) -> None:
    subscriber = rig.subscriber()
    rig.raise_event(subscriber, "grant:1:threshold:80")
    rig.smtp.start()
    assert rig.worker.run_once().expanded == 1
    with writer_holding_the_database(rig.services):
        assert run_beside(rig.worker.run_once) == RunResult()
    rig.raise_event(subscriber, "grant:1:threshold:90")
    assert rig.worker.run_once().expanded == 1  # work found: the pass writes as before
    assert len(rig.smtp.inbox) == 2
