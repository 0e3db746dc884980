"""Webhook channel: POSTs the event JSON to the subscription's URL, signed with HMAC-SHA256.

Headers: X-OCS-Signature "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>",
X-OCS-Event (the kind) and X-OCS-Delivery (the delivery id, the same on every retry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from ocs.core.notifications import SIGNATURE_HEADER, signature_header
from ocs.service.notification_ports import DeliveryError, OutgoingMessage

RETRYABLE_STATUS = frozenset({408, 425, 429})


def check_response(response: httpx.Response, what: str) -> None:
    """2xx is delivered; 5xx and a few 4xx (timeout, too many requests) are retried; another
    4xx means the receiver will never accept this request, so it is not retried."""
    if response.is_success:
        return
    code = response.status_code
    permanent = 400 <= code < 500 and code not in RETRYABLE_STATUS
    raise DeliveryError(f"{what} answered HTTP {code}: {response.text[:200]}", permanent)


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], what: str) -> None:
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{what} {url}: {type(exc).__name__}: {exc}") from exc
    check_response(response, what)


class WebhookSender:
    def __init__(
        self,
        now: Callable[[], datetime],
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.now = now
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, message: OutgoingMessage) -> None:
        if message.secret is None:
            raise DeliveryError("webhook delivery without a signing secret", permanent=True)
        body = message.body.encode("utf-8")
        timestamp = int(self.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(message.secret, timestamp, body),
            "X-OCS-Event": message.kind.value,
            "X-OCS-Delivery": str(message.delivery_id),
        }
        post(self.client, message.recipient, body, headers, "webhook")

    def close(self) -> None:
        self.client.close()
