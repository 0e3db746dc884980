"""Notification events that charging and recurrent grants raise for subscribers.

An event is written to the durable outbox in the same transaction as the change that caused
it; delivery (e-mail, webhook, SMS) happens later, with retries."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from string import Template

from ocs.core.errors import invalid


class NotificationKind(StrEnum):
    FIRST_USAGE = "FIRST_USAGE"
    THRESHOLD = "THRESHOLD"
    RECURRENCE = "RECURRENCE"
    EXHAUSTED = "EXHAUSTED"
    BPL = "BPL"  # raised by a business process logic task's NOTIFY action (core/bpl.py)


@dataclass(frozen=True)
class NotificationEvent:
    kind: NotificationKind
    subscriber_id: int
    at: datetime
    # Unique per real-world occurrence (e.g. "grant:42:threshold:80"); the outbox keeps the
    # first event with a key and ignores repeats, so raising is idempotent.
    dedup_key: str
    # Template parameters: balance name, threshold percent, granted, remaining, unit, ...
    params: Mapping[str, str | int] = field(default_factory=dict)


# -- delivery --------------------------------------------------------------------------------


class NotificationChannel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    # Claimed by a worker until lease_expires_at; past the lease the row is due again.
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class StoredEvent:
    id: int
    event: NotificationEvent
    expanded_at: datetime | None


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: int
    kind: NotificationKind
    subscriber_id: int
    channel: NotificationChannel
    recipient: str
    webhook_id: int | None
    subject: str | None
    body: str
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    lease_expires_at: datetime | None
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class DeliveryQuery:
    subscriber_id: int | None = None
    state: DeliveryState | None = None
    kind: NotificationKind | None = None
    channel: NotificationChannel | None = None
    limit: int = 100


RETRY_BASE_DELAY_S = 30
RETRY_MAX_DELAY_S = 3600
MAX_ATTEMPTS = 8


def retry_delay_s(
    attempts: int, base_s: int = RETRY_BASE_DELAY_S, max_s: int = RETRY_MAX_DELAY_S
) -> int:
    """Seconds to wait after the attempts-th failed attempt: base, 2 base, 4 base, ... capped,
    so that a channel that is down is not hammered and a short outage costs little delay."""
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    # Bound the exponent so the power stays small whatever the attempt count.
    exponent = min(attempts - 1, 32)
    return int(min(base_s * 2**exponent, max_s))


def after_failure(
    attempts: int, now: datetime, max_attempts: int, base_s: int, max_s: int
) -> tuple[DeliveryState, datetime]:
    """The state and next attempt time of a delivery whose attempts-th attempt just failed."""
    if attempts >= max_attempts:
        return DeliveryState.FAILED, now
    return DeliveryState.PENDING, now + timedelta(seconds=retry_delay_s(attempts, base_s, max_s))


# -- templates -------------------------------------------------------------------------------

DEFAULT_LANGUAGE = "en"
SUBJECT_LENGTH_MAX = 500
BODY_LENGTH_MAX = 4000
SMS_BODY_LENGTH_MAX = 640
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

# Parameters every event carries, and those each kind adds: a template may use only these, so
# a misspelt placeholder is refused when the template is saved, not when a customer is waiting.
COMMON_PARAMS = frozenset({"kind", "subscriber_id", "subscriber", "at"})
KIND_PARAMS: Mapping[NotificationKind, frozenset[str]] = {
    NotificationKind.FIRST_USAGE: frozenset({"balance", "unit", "granted", "remaining", "offer"}),
    NotificationKind.THRESHOLD: frozenset(
        {"balance", "unit", "granted", "remaining", "threshold_percent", "offer"}
    ),
    NotificationKind.RECURRENCE: frozenset(
        {"balance", "unit", "granted", "remaining", "offer", "valid_until"}
    ),
    NotificationKind.EXHAUSTED: frozenset({"balance", "unit", "granted", "remaining", "offer"}),
    NotificationKind.BPL: frozenset({"task", "message"}),
}


def allowed_params(kind: NotificationKind) -> frozenset[str]:
    return COMMON_PARAMS | KIND_PARAMS[kind]


@dataclass(frozen=True)
class NotificationTemplate:
    kind: NotificationKind
    channel: NotificationChannel
    language: str
    subject: str | None
    body: str
    id: int = 0


def placeholders(text: str, field_name: str) -> set[str]:
    """The ${name} placeholders of a string.Template text; a malformed one is refused."""
    names: set[str] = set()
    for match in Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            column = match.start()  # where the stray "$" is
            raise invalid(
                field_name,
                f"{field_name} has a malformed placeholder at character {column + 1}; "
                "write ${name} or $$ for a dollar sign",
            )
        name = match.group("named") or match.group("braced")
        if name is not None:
            names.add(name)
    return names


def check_template(template: NotificationTemplate) -> NotificationTemplate:
    """The template with its language normalised; unknown placeholders are refused."""
    language = template.language.strip().lower()
    if not LANGUAGE_PATTERN.match(language):
        raise invalid("language", "language must be an ISO 639 code such as en or pt-br")
    body = template.body
    if not body.strip():
        raise invalid("body", "body must not be empty")
    limit = SMS_BODY_LENGTH_MAX if template.channel is NotificationChannel.SMS else BODY_LENGTH_MAX
    if len(body) > limit:
        raise invalid("body", f"body must be at most {limit} characters for {template.channel}")
    subject = template.subject
    if template.channel is NotificationChannel.EMAIL:
        if subject is None or not subject.strip():
            raise invalid("subject", "an EMAIL template needs a subject")
        if len(subject) > SUBJECT_LENGTH_MAX or "\n" in subject or "\r" in subject:
            raise invalid(
                "subject", f"subject must be one line of at most {SUBJECT_LENGTH_MAX} characters"
            )
    elif subject is not None:
        raise invalid("subject", f"a {template.channel} template has no subject")
    allowed = allowed_params(template.kind)
    for field_name, text in (("subject", subject or ""), ("body", body)):
        unknown = sorted(placeholders(text, field_name) - allowed)
        if unknown:
            raise invalid(
                field_name,
                f"{field_name} uses unknown parameter(s) {', '.join(unknown)} for "
                f"{template.kind}; allowed: {', '.join(sorted(allowed))}",
            )
    return replace(template, language=language)


class RenderError(Exception):
    """A template needs a parameter the event does not carry."""


def event_params(event: NotificationEvent, subscriber: str) -> dict[str, str]:
    values = {key: str(value) for key, value in event.params.items()}
    values.update(
        kind=event.kind.value,
        subscriber_id=str(event.subscriber_id),
        subscriber=subscriber,
        at=event.at.isoformat(),
    )
    return values


def render_text(text: str, params: Mapping[str, str]) -> str:
    try:
        return Template(text).substitute(params)
    except KeyError as exc:
        raise RenderError(f"the event has no parameter {exc.args[0]!r}") from exc


def render(template: NotificationTemplate, params: Mapping[str, str]) -> tuple[str | None, str]:
    subject = None if template.subject is None else render_text(template.subject, params)
    return subject, render_text(template.body, params)


def choose_template(
    templates: Mapping[str, NotificationTemplate], language: str
) -> NotificationTemplate | None:
    """The template in the recipient's language, else its base language (pt for pt-br),
    else the default language."""
    for candidate in (language, language.split("-")[0], DEFAULT_LANGUAGE):
        found = templates.get(candidate)
        if found is not None:
            return found
    return None


# -- recipients and webhooks -------------------------------------------------------------------

EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class NotificationContact:
    """What CASM does not hold: the e-mail address, and a language for notifications only."""

    subscriber_id: int
    email: str | None
    language: str | None


def check_contact(contact: NotificationContact) -> NotificationContact:
    email = None if contact.email is None else contact.email.strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise invalid("email", "email must be an address such as name@example.com")
    language = None if contact.language is None else contact.language.strip().lower() or None
    if language is not None and not LANGUAGE_PATTERN.match(language):
        raise invalid("language", "language must be an ISO 639 code such as en or pt-br")
    return replace(contact, email=email, language=language)


@dataclass(frozen=True)
class Recipient:
    """Where a subscriber's notifications go; a channel is skipped with skip reason."""

    subscriber_id: int
    service_provider: str
    display: str
    language: str
    email: str | None
    msisdn: str | None
    sms_disabled: bool


@dataclass(frozen=True)
class WebhookSubscription:
    name: str
    url: str
    secret: str
    kinds: frozenset[NotificationKind]
    service_provider: str | None = None
    active: bool = True
    id: int = 0

    def wants(self, kind: NotificationKind, provider: str) -> bool:
        if not self.active or kind not in self.kinds:
            return False
        return self.service_provider is None or self.service_provider == provider


WEBHOOK_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SECRET_LENGTH_MIN = 16


def check_webhook(webhook: WebhookSubscription) -> WebhookSubscription:
    if not WEBHOOK_NAME_PATTERN.match(webhook.name):
        raise invalid("name", "name must be 1 to 64 letters, digits, '_', '.' or '-'")
    url = webhook.url.strip()
    if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 1000:
        raise invalid("url", "url must be an http:// or https:// address")
    if not (SECRET_LENGTH_MIN <= len(webhook.secret) <= 200):
        raise invalid("secret", f"secret must be {SECRET_LENGTH_MIN} to 200 characters long")
    if not webhook.kinds:
        raise invalid("kinds", "kinds must name at least one notification kind")
    return replace(webhook, url=url)


def parse_kinds(values: Iterable[str], field_name: str = "kinds") -> frozenset[NotificationKind]:
    kinds: set[NotificationKind] = set()
    for value in values:
        try:
            kinds.add(NotificationKind(value.strip().upper()))
        except ValueError:
            allowed = ", ".join(k.value for k in NotificationKind)
            raise invalid(
                field_name, f"unknown notification kind {value!r}; use {allowed}"
            ) from None
    return frozenset(kinds)


# -- webhook signatures ------------------------------------------------------------------------

SIGNATURE_HEADER = "X-OCS-Signature"
SIGNATURE_TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 over "<timestamp>." followed by the exact body bytes; binding the
    timestamp stops a captured request from being replayed later."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now_s: int, tolerance_s: int = SIGNATURE_TOLERANCE_S
) -> bool:
    """What a receiver does: parse the header, check the timestamp is recent and the HMAC
    matches in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now_s - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, body))


# Used when the operator has stored no template of a kind and channel in any language, so a
# fresh installation notifies in English rather than dropping events.
DEFAULT_TEMPLATES: Mapping[tuple[NotificationKind, NotificationChannel], tuple[str | None, str]] = {
    (NotificationKind.FIRST_USAGE, NotificationChannel.EMAIL): (
        "Your ${balance} allowance is now in use",
        "Hello,\n\nyou have started using your ${balance} allowance"
        " (${remaining} of ${granted} ${unit} left).\n",
    ),
    (NotificationKind.FIRST_USAGE, NotificationChannel.SMS): (
        None,
        "You started using your ${balance} allowance: ${remaining} of ${granted} ${unit} left.",
    ),
    (NotificationKind.THRESHOLD, NotificationChannel.EMAIL): (
        "You have used ${threshold_percent}% of your ${balance} allowance",
        "Hello,\n\nyou have used ${threshold_percent}% of your ${balance} allowance;"
        " ${remaining} of ${granted} ${unit} left.\n",
    ),
    (NotificationKind.THRESHOLD, NotificationChannel.SMS): (
        None,
        "${threshold_percent}% of your ${balance} allowance used: ${remaining} ${unit} left.",
    ),
    (NotificationKind.RECURRENCE, NotificationChannel.EMAIL): (
        "Your ${balance} allowance has been renewed",
        "Hello,\n\nyour ${balance} allowance has been renewed with ${granted} ${unit}.\n",
    ),
    (NotificationKind.RECURRENCE, NotificationChannel.SMS): (
        None,
        "Your ${balance} allowance has been renewed: ${granted} ${unit}.",
    ),
    (NotificationKind.EXHAUSTED, NotificationChannel.EMAIL): (
        "Your ${balance} allowance is used up",
        "Hello,\n\nyour ${balance} allowance of ${granted} ${unit} is used up.\n",
    ),
    (NotificationKind.EXHAUSTED, NotificationChannel.SMS): (
        None,
        "Your ${balance} allowance of ${granted} ${unit} is used up.",
    ),
}


def default_template(
    kind: NotificationKind, channel: NotificationChannel
) -> NotificationTemplate | None:
    found = DEFAULT_TEMPLATES.get((kind, channel))
    if found is None:
        return None
    subject, body = found
    return NotificationTemplate(kind, channel, DEFAULT_LANGUAGE, subject, body)


def webhook_payload(
    event_id: int, event: NotificationEvent, recipient: Recipient | None
) -> dict[str, object]:
    """The JSON document a webhook receives; the same for every attempt of a delivery."""
    return {
        "event_id": event_id,
        "dedup_key": event.dedup_key,
        "kind": event.kind.value,
        "subscriber_id": event.subscriber_id,
        "subscriber": None if recipient is None else recipient.display,
        "service_provider": None if recipient is None else recipient.service_provider,
        "at": event.at.isoformat(),
        "params": dict(event.params),
    }
