"""Delivering notifications: expand outbox events into one delivery per channel and
recipient, then send due deliveries through the channel adapters with retries.

Exactly-once as far as the database can see: a delivery is claimed (SENDING with a lease) and
committed before it is sent, and marked SENT only if the claim still holds. A worker that dies
between send and mark leaves the row to be retried after the lease, so a receiver may see it
twice in that case only; webhook receivers can use the X-OCS-Delivery header to drop repeats."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ocs.core.notifications import (
    Delivery,
    DeliveryState,
    NotificationChannel,
    NotificationEvent,
    NotificationTemplate,
    Recipient,
    RenderError,
    StoredEvent,
    after_failure,
    choose_template,
    default_template,
    event_params,
    render,
    webhook_payload,
)
from ocs.service.notification_ports import DeliveryError, NotificationSender, OutgoingMessage
from ocs.service.ports import Clock, Store, UnitOfWork

log = logging.getLogger("ocs.notifications")

MSISDN_RESOURCE_TYPE = "MSISDN"
LAST_ERROR_LENGTH_MAX = 1000


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 8
    retry_base_delay_s: int = 30
    retry_max_delay_s: int = 3600
    # How long a claimed delivery belongs to its worker; longer than any send may take.
    lease_s: int = 120
    batch_size: int = 50


@dataclass(frozen=True)
class RunResult:
    expanded: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def load_recipient(uow: UnitOfWork, subscriber_id: int) -> Recipient | None:
    """Where a subscriber's notifications go: the e-mail address and language from the
    notification contact, else the subscriber's language; the first MSISDN resource; the
    "Disable SMS Notifications" flag from the subscriber details."""
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None:
        return None
    contact = uow.notifications.get_contact(subscriber_id)
    msisdns = sorted(
        (
            r
            for r in uow.casm.list_resources(subscriber_id)
            if r.resource_type == MSISDN_RESOURCE_TYPE
        ),
        key=lambda r: r.id,
    )
    details = uow.features.get_details(subscriber_id).details
    language = (contact.language if contact else None) or subscriber.language
    return Recipient(
        subscriber_id=subscriber_id,
        service_provider=subscriber.service_provider,
        display=subscriber.subscriber_id,
        language=language.lower(),
        email=contact.email if contact else None,
        msisdn=msisdns[0].value if msisdns else None,
        sms_disabled=details.sms_notifications_disabled,
    )


class NotificationDelivery:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        senders: Mapping[NotificationChannel, NotificationSender],
        settings: DeliverySettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.senders = dict(senders)
        self.settings = settings or DeliverySettings()

    def run_once(self, now: datetime | None = None) -> RunResult:
        """One pass: expand new events, then send every delivery due at now."""
        now = now or self.clock.now()
        expanded = self.expand(now)
        outcome = self.send_due(now)
        return replace(outcome, expanded=expanded)

    # -- expansion ------------------------------------------------------------------------------

    def expand(self, now: datetime) -> int:
        """Turn outbox events into deliveries, one transaction per batch."""
        # Looked for first without the write lock: most passes find nothing to do.
        with self.store.reading() as uow:
            if not uow.notifications.any_unexpanded():
                return 0
        total = 0
        while True:
            with self.store.transaction() as uow:
                events = uow.notifications.claim_unexpanded(self.settings.batch_size)
                done = sum(self._expand_one(uow, stored, now) for stored in events)
            total += done
            # A batch with an event that cannot be expanded ends the pass; it is tried again.
            if len(events) < self.settings.batch_size or done < len(events):
                return total

    def _expand_one(self, uow: UnitOfWork, stored: StoredEvent, now: datetime) -> bool:
        try:
            with uow.savepoint():
                uow.notifications.insert_deliveries(self._deliveries(uow, stored, now))
                uow.notifications.mark_expanded(stored.id, now)
        except Exception:
            # One broken event must not hold up the others; it stays in the outbox.
            log.exception("notification event %s could not be expanded", stored.id)
            return False
        return True

    def _deliveries(self, uow: UnitOfWork, stored: StoredEvent, now: datetime) -> list[Delivery]:
        event = stored.event
        recipient = load_recipient(uow, event.subscriber_id)
        deliveries: list[Delivery] = []
        if recipient is not None:
            params = event_params(event, recipient.display)
            for channel, address, skip in (
                (NotificationChannel.EMAIL, recipient.email, _email_skip(recipient)),
                (NotificationChannel.SMS, recipient.msisdn, _sms_skip(recipient)),
            ):
                deliveries.append(
                    self._message(uow, stored, recipient, channel, address, skip, params, now)
                )
        provider = recipient.service_provider if recipient else None
        payload = json.dumps(webhook_payload(stored.id, event, recipient), sort_keys=True)
        urls: set[str] = set()
        for webhook in uow.notifications.list_webhooks():
            if provider is None and webhook.service_provider is not None:
                continue
            # Two subscriptions to one URL get the event once (by name order).
            if webhook.wants(event.kind, provider or "") and webhook.url not in urls:
                urls.add(webhook.url)
                delivery = _new(stored, NotificationChannel.WEBHOOK, webhook.url, now)
                deliveries.append(replace(delivery, webhook_id=webhook.id, body=payload))
        return deliveries

    def _message(
        self,
        uow: UnitOfWork,
        stored: StoredEvent,
        recipient: Recipient,
        channel: NotificationChannel,
        address: str | None,
        skip: str | None,
        params: Mapping[str, str],
        now: datetime,
    ) -> Delivery:
        delivery = _new(stored, channel, address or "", now)
        if skip is None and channel not in self.senders:
            skip = f"no {channel.value} channel is configured"
        if skip is not None:
            return replace(delivery, state=DeliveryState.SKIPPED, last_error=skip)
        template = _template(uow, stored.event, channel, recipient.language)
        if template is None:
            reason = f"no {channel.value} template for {stored.event.kind.value}"
            return replace(delivery, state=DeliveryState.SKIPPED, last_error=reason)
        try:
            subject, body = render(template, params)
        except RenderError as exc:
            # Fail it visibly rather than send a message with a hole in it.
            detail = f"{template.channel.value} template {template.language}: {exc}"
            return replace(delivery, state=DeliveryState.FAILED, last_error=detail)
        return replace(delivery, subject=subject, body=body)

    # -- sending --------------------------------------------------------------------------------

    def send_due(self, now: datetime) -> RunResult:
        with self.store.reading() as uow:
            if not uow.notifications.any_due(now):
                return RunResult()
        lease_until = now + timedelta(seconds=self.settings.lease_s)
        with self.store.transaction() as uow:
            claimed = uow.notifications.claim_due(now, lease_until, self.settings.batch_size)
        # Committed: the claim is visible to other workers before anything goes out.
        sent = retrying = failed = 0
        for delivery in claimed:
            state = self._attempt(delivery, now)
            if state is DeliveryState.SENT:
                sent += 1
            elif state is DeliveryState.FAILED:
                failed += 1
            elif state is DeliveryState.PENDING:
                retrying += 1
        return RunResult(sent=sent, retrying=retrying, failed=failed)

    def _attempt(self, delivery: Delivery, now: datetime) -> DeliveryState | None:
        error: DeliveryError | None = None
        try:
            message = self._outgoing(delivery)
            self._sender(delivery.channel).send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # an adapter bug must not stop the other deliveries
            log.exception("notification delivery %s failed unexpectedly", delivery.id)
            error = DeliveryError(f"{type(exc).__name__}: {exc}")
        # Times after the send come from the clock again: the send may have taken a while.
        done_at = max(self.clock.now(), now)
        if error is None:
            outcome = replace(
                delivery,
                state=DeliveryState.SENT,
                sent_at=done_at,
                lease_expires_at=None,
                last_error=None,
            )
        else:
            s = self.settings
            attempts_max = delivery.attempts if error.permanent else s.max_attempts
            state, next_at = after_failure(
                delivery.attempts, done_at, attempts_max, s.retry_base_delay_s, s.retry_max_delay_s
            )
            outcome = replace(
                delivery,
                state=state,
                next_attempt_at=next_at,
                lease_expires_at=None,
                last_error=error.detail[:LAST_ERROR_LENGTH_MAX],
            )
        with self.store.transaction() as uow:
            kept = uow.notifications.finish_delivery(
                outcome, DeliveryState.SENDING, delivery.attempts
            )
        if not kept:
            log.warning("notification delivery %s was taken over after its lease", delivery.id)
            return None
        return outcome.state

    def _sender(self, channel: NotificationChannel) -> NotificationSender:
        sender = self.senders.get(channel)
        if sender is None:
            raise DeliveryError(f"no {channel.value} sender is configured")
        return sender

    def _outgoing(self, delivery: Delivery) -> OutgoingMessage:
        secret = None
        if delivery.channel is NotificationChannel.WEBHOOK:
            with self.store.transaction() as uow:
                webhook = (
                    None
                    if delivery.webhook_id is None
                    else uow.notifications.get_webhook_by_id(delivery.webhook_id)
                )
            if webhook is None:
                raise DeliveryError("the webhook subscription was deleted", permanent=True)
            secret = webhook.secret
        return OutgoingMessage(
            delivery_id=delivery.id,
            kind=delivery.kind,
            channel=delivery.channel,
            recipient=delivery.recipient,
            subject=delivery.subject,
            body=delivery.body,
            secret=secret,
        )


def _new(
    stored: StoredEvent, channel: NotificationChannel, recipient: str, now: datetime
) -> Delivery:
    return Delivery(
        id=0,
        event_id=stored.id,
        kind=stored.event.kind,
        subscriber_id=stored.event.subscriber_id,
        channel=channel,
        recipient=recipient,
        webhook_id=None,
        subject=None,
        body="",
        state=DeliveryState.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        lease_expires_at=None,
        last_error=None,
        sent_at=None,
    )


def _email_skip(recipient: Recipient) -> str | None:
    return None if recipient.email else "the subscriber has no e-mail address"


def _sms_skip(recipient: Recipient) -> str | None:
    if recipient.sms_disabled:
        return "the subscriber has Disable SMS Notifications set"
    return None if recipient.msisdn else "the subscriber has no MSISDN"


def _template(
    uow: UnitOfWork, event: NotificationEvent, channel: NotificationChannel, language: str
) -> NotificationTemplate | None:
    stored = {t.language: t for t in uow.notifications.templates_for(event.kind, channel)}
    # Stored templates first (language, base language, default language), then built-in.
    return choose_template(stored, language) or default_template(event.kind, channel)
