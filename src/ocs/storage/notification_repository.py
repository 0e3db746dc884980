"""SQL implementation of the notification port (see ocs.service.notification_ports)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ocs.core.notifications import (
    Delivery,
    DeliveryQuery,
    DeliveryState,
    NotificationChannel,
    NotificationContact,
    NotificationEvent,
    NotificationKind,
    NotificationTemplate,
    StoredEvent,
    WebhookSubscription,
)
from ocs.storage.notification_tables import (
    notification_contacts,
    notification_deliveries,
    notification_outbox,
    notification_templates,
    notification_webhooks,
)

OUTBOX = notification_outbox.c
DELIVERY = notification_deliveries.c
TEMPLATE = notification_templates.c
WEBHOOK = notification_webhooks.c
CONTACT = notification_contacts.c


def _event(row: Any) -> StoredEvent:
    m = row._mapping
    event = NotificationEvent(
        kind=NotificationKind(m["kind"]),
        subscriber_id=m["subscriber_id"],
        at=m["at"],
        dedup_key=m["dedup_key"],
        params=json.loads(m["params"]),
    )
    return StoredEvent(id=m["id"], event=event, expanded_at=m["expanded_at"])


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"],
        event_id=m["event_id"],
        kind=NotificationKind(m["kind"]),
        subscriber_id=m["subscriber_id"],
        channel=NotificationChannel(m["channel"]),
        recipient=m["recipient"],
        webhook_id=m["webhook_id"],
        subject=m["subject"],
        body=m["body"],
        state=DeliveryState(m["state"]),
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        lease_expires_at=m["lease_expires_at"],
        last_error=m["last_error"],
        sent_at=m["sent_at"],
    )


def _delivery_values(delivery: Delivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event_id,
        "kind": delivery.kind.value,
        "subscriber_id": delivery.subscriber_id,
        "channel": delivery.channel.value,
        "recipient": delivery.recipient,
        "webhook_id": delivery.webhook_id,
        "subject": delivery.subject,
        "body": delivery.body,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "lease_expires_at": delivery.lease_expires_at,
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at,
    }


def _template(row: Any) -> NotificationTemplate:
    m = row._mapping
    return NotificationTemplate(
        kind=NotificationKind(m["kind"]),
        channel=NotificationChannel(m["channel"]),
        language=m["language"],
        subject=m["subject"],
        body=m["body"],
        id=m["id"],
    )


def _webhook(row: Any) -> WebhookSubscription:
    m = row._mapping
    kinds = frozenset(NotificationKind(k) for k in m["kinds"].split(",") if k)
    return WebhookSubscription(
        name=m["name"],
        url=m["url"],
        secret=m["secret"],
        kinds=kinds,
        service_provider=m["service_provider"],
        active=bool(m["active"]),
        id=m["id"],
    )


def _webhook_values(webhook: WebhookSubscription) -> dict[str, Any]:
    return {
        "name": webhook.name,
        "url": webhook.url,
        "secret": webhook.secret,
        "kinds": ",".join(sorted(k.value for k in webhook.kinds)),
        "service_provider": webhook.service_provider,
        "active": webhook.active,
    }


class SqlNotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- outbox --------------------------------------------------------------------------------

    def insert_event(self, event: NotificationEvent) -> bool:
        values = {
            "dedup_key": event.dedup_key,
            "kind": event.kind.value,
            "subscriber_id": event.subscriber_id,
            "at": event.at,
            "params": json.dumps(dict(event.params), sort_keys=True),
            "expanded_at": None,
        }
        dialect = self.conn.dialect.name
        # ON CONFLICT DO NOTHING: a concurrent duplicate neither fails the caller's transaction
        # nor adds a row (a plain check-then-insert could race on PostgreSQL).
        if dialect == "postgresql":
            statement: Any = pg_insert(notification_outbox).values(**values)
        elif dialect == "sqlite":
            statement = sqlite_insert(notification_outbox).values(**values)
        else:
            exists = select(OUTBOX.id).where(OUTBOX.dedup_key == event.dedup_key)
            if self.conn.execute(exists).first() is not None:
                return False
            self.conn.execute(insert(notification_outbox).values(**values))
            return True
        statement = statement.on_conflict_do_nothing(index_elements=["dedup_key"])
        return bool(self.conn.execute(statement).rowcount == 1)

    def get_event(self, event_id: int) -> StoredEvent | None:
        row = self.conn.execute(select(notification_outbox).where(OUTBOX.id == event_id)).first()
        return None if row is None else _event(row)

    def any_unexpanded(self) -> bool:
        query = select(OUTBOX.id).where(OUTBOX.expanded_at.is_(None)).limit(1)
        return self.conn.execute(query).first() is not None

    def claim_unexpanded(self, limit: int) -> list[StoredEvent]:
        query = (
            select(notification_outbox)
            .where(OUTBOX.expanded_at.is_(None))
            .order_by(OUTBOX.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_event(row) for row in self.conn.execute(query)]

    def mark_expanded(self, event_id: int, at: datetime) -> None:
        statement = update(notification_outbox).where(OUTBOX.id == event_id)
        self.conn.execute(statement.values(expanded_at=at))

    # -- deliveries ----------------------------------------------------------------------------

    def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            rows = [_delivery_values(d) for d in deliveries]
            self.conn.execute(insert(notification_deliveries), rows)

    def any_due(self, now: datetime) -> bool:
        query = select(DELIVERY.id).where(_due(now)).limit(1)
        return self.conn.execute(query).first() is not None

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        query = (
            select(notification_deliveries)
            .where(_due(now))
            .order_by(DELIVERY.next_attempt_at, DELIVERY.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed: list[Delivery] = []
        for row in self.conn.execute(query).all():
            delivery = _delivery(row)
            # The attempt counts when it starts: a worker that crashes mid-send still uses one
            # attempt, so a message that kills workers cannot loop forever.
            values = {
                "state": DeliveryState.SENDING.value,
                "attempts": delivery.attempts + 1,
                "lease_expires_at": lease_until,
            }
            self.conn.execute(
                update(notification_deliveries).where(DELIVERY.id == delivery.id).values(**values)
            )
            claimed.append(
                replace(
                    delivery,
                    state=DeliveryState.SENDING,
                    attempts=delivery.attempts + 1,
                    lease_expires_at=lease_until,
                )
            )
        return claimed

    def get_delivery(self, delivery_id: int, for_update: bool = False) -> Delivery | None:
        query = select(notification_deliveries).where(DELIVERY.id == delivery_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _delivery(row)

    def update_delivery(self, delivery: Delivery) -> None:
        statement = update(notification_deliveries).where(DELIVERY.id == delivery.id)
        self.conn.execute(statement.values(**_delivery_values(delivery)))

    def finish_delivery(
        self, delivery: Delivery, expected_state: DeliveryState, expected_attempts: int
    ) -> bool:
        statement = (
            update(notification_deliveries)
            .where(
                DELIVERY.id == delivery.id,
                DELIVERY.state == expected_state.value,
                DELIVERY.attempts == expected_attempts,
            )
            .values(**_delivery_values(delivery))
        )
        return bool(self.conn.execute(statement).rowcount == 1)

    def search_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        statement = select(notification_deliveries)
        if query.subscriber_id is not None:
            statement = statement.where(DELIVERY.subscriber_id == query.subscriber_id)
        if query.state is not None:
            statement = statement.where(DELIVERY.state == query.state.value)
        if query.kind is not None:
            statement = statement.where(DELIVERY.kind == query.kind.value)
        if query.channel is not None:
            statement = statement.where(DELIVERY.channel == query.channel.value)
        statement = statement.order_by(DELIVERY.id.desc()).limit(query.limit)
        return [_delivery(row) for row in self.conn.execute(statement)]

    def count_by_state(self) -> dict[DeliveryState, int]:
        query = select(DELIVERY.state, func.count()).group_by(DELIVERY.state)
        counts = dict.fromkeys(DeliveryState, 0)
        for state, count in self.conn.execute(query):
            counts[DeliveryState(state)] = int(count)
        return counts

    # -- contacts ------------------------------------------------------------------------------

    def get_contact(self, subscriber_id: int) -> NotificationContact | None:
        query = select(notification_contacts).where(CONTACT.subscriber_id == subscriber_id)
        row = self.conn.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        return NotificationContact(m["subscriber_id"], m["email"], m["language"])

    def put_contact(self, contact: NotificationContact) -> None:
        values = {"email": contact.email, "language": contact.language}
        where = CONTACT.subscriber_id == contact.subscriber_id
        result = self.conn.execute(update(notification_contacts).where(where).values(**values))
        if result.rowcount == 0:
            statement = insert(notification_contacts)
            self.conn.execute(statement.values(subscriber_id=contact.subscriber_id, **values))

    def delete_contact(self, subscriber_id: int) -> bool:
        where = CONTACT.subscriber_id == subscriber_id
        return bool(self.conn.execute(delete(notification_contacts).where(where)).rowcount)

    # -- templates -----------------------------------------------------------------------------

    def _template_key(
        self, kind: NotificationKind, channel: NotificationChannel, language: str
    ) -> Any:
        return and_(
            TEMPLATE.kind == kind.value,
            TEMPLATE.channel == channel.value,
            TEMPLATE.language == language,
        )

    def get_template(
        self, kind: NotificationKind, channel: NotificationChannel, language: str
    ) -> NotificationTemplate | None:
        query = select(notification_templates).where(self._template_key(kind, channel, language))
        row = self.conn.execute(query).first()
        return None if row is None else _template(row)

    def templates_for(
        self, kind: NotificationKind, channel: NotificationChannel
    ) -> list[NotificationTemplate]:
        query = select(notification_templates).where(
            TEMPLATE.kind == kind.value, TEMPLATE.channel == channel.value
        )
        return [_template(row) for row in self.conn.execute(query)]

    def list_templates(self) -> list[NotificationTemplate]:
        query = select(notification_templates).order_by(
            TEMPLATE.kind, TEMPLATE.channel, TEMPLATE.language
        )
        return [_template(row) for row in self.conn.execute(query)]

    def put_template(self, template: NotificationTemplate) -> NotificationTemplate:
        key = self._template_key(template.kind, template.channel, template.language)
        values = {"subject": template.subject, "body": template.body}
        existing = self.conn.execute(select(TEMPLATE.id).where(key)).first()
        if existing is not None:
            self.conn.execute(update(notification_templates).where(key).values(**values))
            template_id = int(existing[0])
        else:
            statement = insert(notification_templates).values(
                kind=template.kind.value,
                channel=template.channel.value,
                language=template.language,
                **values,
            )
            template_id = int(self.conn.execute(statement.returning(TEMPLATE.id)).scalar_one())
        return NotificationTemplate(
            kind=template.kind,
            channel=template.channel,
            language=template.language,
            subject=template.subject,
            body=template.body,
            id=template_id,
        )

    def delete_template(
        self, kind: NotificationKind, channel: NotificationChannel, language: str
    ) -> bool:
        statement = delete(notification_templates).where(
            self._template_key(kind, channel, language)
        )
        return bool(self.conn.execute(statement).rowcount)

    # -- webhooks ------------------------------------------------------------------------------

    def get_webhook(self, name: str) -> WebhookSubscription | None:
        query = select(notification_webhooks).where(WEBHOOK.name == name)
        row = self.conn.execute(query).first()
        return None if row is None else _webhook(row)

    def get_webhook_by_id(self, webhook_id: int) -> WebhookSubscription | None:
        query = select(notification_webhooks).where(WEBHOOK.id == webhook_id)
        row = self.conn.execute(query).first()
        return None if row is None else _webhook(row)

    def list_webhooks(self) -> list[WebhookSubscription]:
        query = select(notification_webhooks).order_by(WEBHOOK.name)
        return [_webhook(row) for row in self.conn.execute(query)]

    def insert_webhook(self, webhook: WebhookSubscription) -> int:
        statement = insert(notification_webhooks).values(**_webhook_values(webhook))
        return int(self.conn.execute(statement.returning(WEBHOOK.id)).scalar_one())

    def update_webhook(self, webhook: WebhookSubscription) -> None:
        statement = update(notification_webhooks).where(WEBHOOK.id == webhook.id)
        self.conn.execute(statement.values(**_webhook_values(webhook)))

    def delete_webhook(self, name: str) -> bool:
        statement = delete(notification_webhooks).where(WEBHOOK.name == name)
        return bool(self.conn.execute(statement).rowcount)


def _due(now: datetime) -> ColumnElement[bool]:
    """Deliveries to send now: pending ones whose attempt came, sending ones whose lease ran out."""
    return or_(
        and_(DELIVERY.state == DeliveryState.PENDING.value, DELIVERY.next_attempt_at <= now),
        and_(DELIVERY.state == DeliveryState.SENDING.value, DELIVERY.lease_expires_at <= now),
    )
