"""Repository port for notifications (outbox, deliveries, contacts, templates, webhooks);
`UnitOfWork.notifications` provides it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


class NotificationRepository(Protocol):
    # -- outbox --------------------------------------------------------------------------------

    def insert_event(self, event: NotificationEvent) -> bool:
        """Add the event to the outbox unless one with its dedup_key is there; True if added."""
        ...

    def get_event(self, event_id: int) -> StoredEvent | None: ...

    def any_unexpanded(self) -> bool:
        """Whether some event waits to be expanded (a read: it locks nothing)."""
        ...

    def claim_unexpanded(self, limit: int) -> list[StoredEvent]:
        """Events not yet expanded, oldest first, locked until the transaction ends (other
        workers skip them)."""
        ...

    def mark_expanded(self, event_id: int, at: datetime) -> None: ...

    # -- deliveries ----------------------------------------------------------------------------

    def insert_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...

    def any_due(self, now: datetime) -> bool:
        """Whether some delivery is due now, as claim_due finds them (a read: locks nothing)."""
        ...

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Deliveries due now (PENDING with next_attempt_at reached, or SENDING with an expired
        lease), switched to SENDING with the lease; other workers skip locked rows."""
        ...

    def get_delivery(self, delivery_id: int, for_update: bool = False) -> Delivery | None: ...

    def update_delivery(self, delivery: Delivery) -> None: ...

    def finish_delivery(
        self, delivery: Delivery, expected_state: DeliveryState, expected_attempts: int
    ) -> bool:
        """Write the delivery's outcome if the row is still as the claim left it; False when
        another worker took it over after the lease ran out."""
        ...

    def search_deliveries(self, query: DeliveryQuery) -> list[Delivery]: ...

    def count_by_state(self) -> dict[DeliveryState, int]: ...

    # -- contacts ------------------------------------------------------------------------------

    def get_contact(self, subscriber_id: int) -> NotificationContact | None: ...

    def put_contact(self, contact: NotificationContact) -> None: ...

    def delete_contact(self, subscriber_id: int) -> bool: ...

    # -- templates -----------------------------------------------------------------------------

    def get_template(
        self, kind: NotificationKind, channel: NotificationChannel, language: str
    ) -> NotificationTemplate | None: ...

    def templates_for(
        self, kind: NotificationKind, channel: NotificationChannel
    ) -> list[NotificationTemplate]: ...

    def list_templates(self) -> list[NotificationTemplate]: ...

    def put_template(self, template: NotificationTemplate) -> NotificationTemplate:
        """Insert or replace the template of its kind, channel and language."""
        ...

    def delete_template(
        self, kind: NotificationKind, channel: NotificationChannel, language: str
    ) -> bool: ...

    # -- webhooks ------------------------------------------------------------------------------

    def get_webhook(self, name: str) -> WebhookSubscription | None: ...

    def get_webhook_by_id(self, webhook_id: int) -> WebhookSubscription | None: ...

    def list_webhooks(self) -> list[WebhookSubscription]: ...

    def insert_webhook(self, webhook: WebhookSubscription) -> int: ...

    def update_webhook(self, webhook: WebhookSubscription) -> None: ...

    def delete_webhook(self, name: str) -> bool: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """One delivery attempt as a channel adapter sees it."""

    delivery_id: int
    kind: NotificationKind
    channel: NotificationChannel
    recipient: str
    subject: str | None
    body: str
    # The webhook subscription's signing secret (WEBHOOK only), read at send time so that a
    # rotated secret applies to retries too.
    secret: str | None = None


class DeliveryError(Exception):
    """A failed send; permanent failures (a refused address, a 4xx answer) are not retried."""

    def __init__(self, detail: str, permanent: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


class NotificationSender(Protocol):
    """A channel adapter: returns when the message was accepted, else raises DeliveryError."""

    def send(self, message: OutgoingMessage) -> None: ...
