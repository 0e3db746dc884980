"""SMS channel: senders behind the NotificationSender port. The HTTP gateway sender POSTs
JSON {"to", "from", "text", "reference"} to a configured URL; others (SMPP, a vendor API) can
be added as further senders without touching the delivery worker."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from ocs.adapters.notify_webhook import post
from ocs.service.notification_ports import DeliveryError, OutgoingMessage


@dataclass(frozen=True)
class SmsGatewaySettings:
    url: str
    sender_id: str = "OCS"
    # Sent as "Authorization: Bearer <token>" when set.
    token: str | None = None
    timeout_s: float = 10.0


class HttpSmsGatewaySender:
    def __init__(self, settings: SmsGatewaySettings, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings.timeout_s, follow_redirects=False)

    def send(self, message: OutgoingMessage) -> None:
        if not message.recipient:
            raise DeliveryError("SMS delivery without an MSISDN", permanent=True)
        document = {
            "to": message.recipient,
            "from": self.settings.sender_id,
            "text": message.body,
            # The gateway can drop a repeat of the same reference (after a worker crash).
            "reference": f"ocs-{message.delivery_id}",
        }
        headers = {"Content-Type": "application/json"}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        body = json.dumps(document).encode("utf-8")
        post(self.client, self.settings.url, body, headers, "SMS gateway")

    def close(self) -> None:
        self.client.close()
