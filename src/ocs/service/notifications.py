"""Raising notifications: other use cases call enqueue_notification inside their own unit of
work, so the event is stored if and only if the change that caused it commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeVar

from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.notifications import (
    Delivery,
    DeliveryQuery,
    DeliveryState,
    NotificationChannel,
    NotificationContact,
    NotificationEvent,
    NotificationKind,
    NotificationTemplate,
    Recipient,
    RenderError,
    StoredEvent,
    WebhookSubscription,
    check_contact,
    check_template,
    check_webhook,
    choose_template,
    default_template,
    parse_kinds,
    render,
)
from ocs.core.security import Privilege
from ocs.service.actor import Actor, record_change
from ocs.service.feature_access import visible_subscriber
from ocs.service.notification_delivery import load_recipient
from ocs.service.ports import Clock, Store, UnitOfWork

E = TypeVar("E", bound=Enum)

DEDUP_KEY_LENGTH_MAX = 200


def enqueue_notification(uow: UnitOfWork, event: NotificationEvent) -> None:
    """Write the event to the durable outbox in the caller's transaction. A repeated
    dedup_key is ignored: no error and no second row. Delivery happens later (worker)."""
    if not event.dedup_key or len(event.dedup_key) > DEDUP_KEY_LENGTH_MAX:
        raise invalid("dedup_key", f"dedup_key must be 1 to {DEDUP_KEY_LENGTH_MAX} characters")
    if event.at.tzinfo is None:
        raise invalid("at", "at must be an aware UTC time from the injected clock")
    uow.notifications.insert_event(event)


ENTITY = "notifications"
DELIVERY_LIST_MAX = 500


@dataclass(frozen=True)
class TemplateInput:
    kind: str
    channel: str
    language: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class WebhookInput:
    name: str
    url: str
    secret: str
    kinds: tuple[str, ...]
    service_provider: str | None = None
    active: bool = True


@dataclass(frozen=True)
class DeliveryFilter:
    subscriber_id: int | None = None
    state: str | None = None
    kind: str | None = None
    channel: str | None = None
    limit: int = 100


class NotificationService:
    """The operator's side: templates, webhook subscriptions, contacts, and deliveries."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- templates -----------------------------------------------------------------------------

    def put_template(self, actor: Actor, inp: TemplateInput) -> NotificationTemplate:
        """Create or replace the template of a kind, channel and language; placeholders are
        checked against the kind's parameters now, not when a message is due."""
        actor.require(Privilege.MODIFY)
        template = check_template(
            NotificationTemplate(
                kind=_enum(NotificationKind, inp.kind, "kind"),
                channel=_message_channel(inp.channel),
                language=inp.language,
                subject=inp.subject,
                body=inp.body,
            )
        )
        with self.store.transaction() as uow:
            saved = uow.notifications.put_template(template)
            detail = {"subject": saved.subject, "body": saved.body}
            record_change(
                uow, actor, self.clock.now(), "put-template", ENTITY, _template_key(saved), detail
            )
        return saved

    def list_templates(self, actor: Actor) -> list[NotificationTemplate]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.notifications.list_templates()

    def get_template(
        self, actor: Actor, kind: str, channel: str, language: str
    ) -> NotificationTemplate:
        actor.require(Privilege.READ)
        key = (_enum(NotificationKind, kind, "kind"), _message_channel(channel), language.lower())
        with self.store.transaction() as uow:
            found = uow.notifications.get_template(*key)
        if found is None:
            raise not_found("template", "/".join(str(k) for k in key))
        return found

    def delete_template(self, actor: Actor, kind: str, channel: str, language: str) -> None:
        actor.require(Privilege.MODIFY)
        key = (_enum(NotificationKind, kind, "kind"), _message_channel(channel), language.lower())
        with self.store.transaction() as uow:
            if not uow.notifications.delete_template(*key):
                raise not_found("template", "/".join(str(k) for k in key))
            name = "/".join(str(k) for k in key)
            record_change(uow, actor, self.clock.now(), "delete-template", ENTITY, name, {})

    def preview(
        self, actor: Actor, kind: str, channel: str, language: str, params: Mapping[str, str]
    ) -> tuple[str | None, str]:
        """Render the template a subscriber of that language would get, with given params."""
        actor.require(Privilege.READ)
        the_kind = _enum(NotificationKind, kind, "kind")
        the_channel = _message_channel(channel)
        with self.store.transaction() as uow:
            stored = uow.notifications.templates_for(the_kind, the_channel)
        template = choose_template(
            {t.language: t for t in stored}, language.lower()
        ) or default_template(the_kind, the_channel)
        if template is None:
            raise not_found("template", f"{the_kind}/{the_channel}/{language}")
        try:
            return render(template, params)
        except RenderError as exc:
            raise invalid("params", str(exc)) from None

    # -- webhooks ------------------------------------------------------------------------------

    def create_webhook(self, actor: Actor, inp: WebhookInput) -> WebhookSubscription:
        actor.require(Privilege.ADMIN)
        webhook = self._webhook(inp)
        with self.store.transaction() as uow:
            self._check_provider(uow, webhook.service_provider)
            if uow.notifications.get_webhook(webhook.name) is not None:
                raise DomainError(
                    ProblemKind.DUPLICATE, f"webhook {webhook.name!r} already exists", "name"
                )
            webhook = replace(webhook, id=uow.notifications.insert_webhook(webhook))
            record_change(
                uow, actor, self.clock.now(), "create-webhook", ENTITY, webhook.name,
                _webhook_detail(webhook),
            )  # fmt: skip
        return webhook

    def update_webhook(self, actor: Actor, name: str, inp: WebhookInput) -> WebhookSubscription:
        actor.require(Privilege.ADMIN)
        webhook = self._webhook(inp)
        if webhook.name != name:
            raise DomainError(ProblemKind.IMMUTABLE_FIELD, "a webhook keeps its name", "name")
        with self.store.transaction() as uow:
            self._check_provider(uow, webhook.service_provider)
            existing = uow.notifications.get_webhook(name)
            if existing is None:
                raise not_found("webhook", name)
            webhook = replace(webhook, id=existing.id)
            uow.notifications.update_webhook(webhook)
            record_change(
                uow, actor, self.clock.now(), "update-webhook", ENTITY, name,
                _webhook_detail(webhook),
            )  # fmt: skip
        return webhook

    def list_webhooks(self, actor: Actor) -> list[WebhookSubscription]:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            return uow.notifications.list_webhooks()

    def get_webhook(self, actor: Actor, name: str) -> WebhookSubscription:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            found = uow.notifications.get_webhook(name)
        if found is None:
            raise not_found("webhook", name)
        return found

    def delete_webhook(self, actor: Actor, name: str) -> None:
        actor.require(Privilege.ADMIN)
        with self.store.transaction() as uow:
            if not uow.notifications.delete_webhook(name):
                raise not_found("webhook", name)
            record_change(uow, actor, self.clock.now(), "delete-webhook", ENTITY, name, {})

    def _webhook(self, inp: WebhookInput) -> WebhookSubscription:
        return check_webhook(
            WebhookSubscription(
                name=inp.name,
                url=inp.url,
                secret=inp.secret,
                kinds=parse_kinds(inp.kinds),
                service_provider=inp.service_provider or None,
                active=inp.active,
            )
        )

    def _check_provider(self, uow: UnitOfWork, provider: str | None) -> None:
        if provider is not None and uow.config.get(ConfigKind.SERVICE_PROVIDER, provider) is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"service provider {provider!r} does not exist",
                "service_provider",
            )

    # -- contacts ------------------------------------------------------------------------------

    def get_contact(self, actor: Actor, subscriber_id: int) -> NotificationContact:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            found = uow.notifications.get_contact(subscriber_id)
        return found or NotificationContact(subscriber_id, None, None)

    def put_contact(
        self, actor: Actor, subscriber_id: int, email: str | None, language: str | None
    ) -> NotificationContact:
        actor.require(Privilege.MODIFY)
        contact = check_contact(NotificationContact(subscriber_id, email, language))
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            uow.notifications.put_contact(contact)
            detail = {"email": contact.email, "language": contact.language}
            record_change(
                uow, actor, self.clock.now(), "put-contact", ENTITY, subscriber_id, detail
            )
        return contact

    def recipient(self, actor: Actor, subscriber_id: int) -> Recipient:
        """Where this subscriber's notifications would go now, and what would be skipped."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            found = load_recipient(uow, subscriber_id)
        if found is None:
            raise not_found("subscriber", subscriber_id)
        return found

    # -- deliveries ----------------------------------------------------------------------------

    def list_deliveries(self, actor: Actor, query: DeliveryFilter) -> list[Delivery]:
        actor.require(Privilege.READ)
        if not 1 <= query.limit <= DELIVERY_LIST_MAX:
            raise invalid("limit", f"limit must be 1 to {DELIVERY_LIST_MAX}")
        search = DeliveryQuery(
            subscriber_id=query.subscriber_id,
            state=None if query.state is None else _enum(DeliveryState, query.state, "state"),
            kind=None if query.kind is None else _enum(NotificationKind, query.kind, "kind"),
            channel=(
                None
                if query.channel is None
                else _enum(NotificationChannel, query.channel, "channel")
            ),
            limit=query.limit,
        )
        with self.store.transaction() as uow:
            if query.subscriber_id is not None:
                visible_subscriber(uow, actor, query.subscriber_id)
            found = uow.notifications.search_deliveries(search)
            return [d for d in found if _visible(uow, actor, d)]

    def get_delivery(self, actor: Actor, delivery_id: int) -> Delivery:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            found = uow.notifications.get_delivery(delivery_id)
            if found is None or not _visible(uow, actor, found):
                raise not_found("delivery", delivery_id)
            return found

    def get_event(self, actor: Actor, event_id: int) -> StoredEvent:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            found = uow.notifications.get_event(event_id)
            if found is None:
                raise not_found("event", event_id)
            subscriber = uow.casm.get_subscriber(found.event.subscriber_id)
            if subscriber is not None and not actor.may_use_provider(subscriber.service_provider):
                raise not_found("event", event_id)
            return found

    def retry(self, actor: Actor, delivery_id: int) -> Delivery:
        """Send a FAILED delivery again from the next worker pass, with a fresh attempt budget
        (the last error stays until the next attempt replaces it)."""
        actor.require(Privilege.EXECUTE)
        now = self.clock.now()
        with self.store.transaction() as uow:
            found = uow.notifications.get_delivery(delivery_id, for_update=True)
            if found is None or not _visible(uow, actor, found):
                raise not_found("delivery", delivery_id)
            if found.state is not DeliveryState.FAILED:
                raise DomainError(
                    ProblemKind.NOT_ALLOWED_IN_STATE,
                    f"only a FAILED delivery can be retried; this one is {found.state}",
                    "state",
                )
            retried = replace(found, state=DeliveryState.PENDING, attempts=0, next_attempt_at=now)
            uow.notifications.update_delivery(retried)
            detail = {"last_error": found.last_error, "attempts": found.attempts}
            record_change(uow, actor, now, "retry-delivery", ENTITY, delivery_id, detail)
        return retried

    def counts(self, actor: Actor) -> dict[DeliveryState, int]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.notifications.count_by_state()


def _visible(uow: UnitOfWork, actor: Actor, delivery: Delivery) -> bool:
    if actor.service_providers is None:
        return True
    subscriber = uow.casm.get_subscriber(delivery.subscriber_id)
    return subscriber is not None and actor.may_use_provider(subscriber.service_provider)


def _enum(enum: type[E], value: str, field_name: str) -> E:
    try:
        return enum(value.strip().upper())
    except ValueError:
        allowed = ", ".join(str(e.value) for e in enum)
        raise invalid(field_name, f"{field_name} must be one of {allowed}") from None


def _message_channel(value: str) -> NotificationChannel:
    channel = _enum(NotificationChannel, value, "channel")
    if channel is NotificationChannel.WEBHOOK:
        # A webhook gets the event as JSON; templates are for messages people read.
        raise invalid("channel", "templates exist for EMAIL and SMS only")
    return channel


def _template_key(template: NotificationTemplate) -> str:
    return f"{template.kind}/{template.channel}/{template.language}"


def _webhook_detail(webhook: WebhookSubscription) -> dict[str, object]:
    # The secret stays out of the audit trail.
    return {
        "url": webhook.url,
        "kinds": sorted(k.value for k in webhook.kinds),
        "service_provider": webhook.service_provider,
        "active": webhook.active,
    }
