"""Notification rendering, template checks, backoff and webhook signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.errors import DomainError
from ocs.core.notifications import (
    DEFAULT_TEMPLATES,
    DeliveryState,
    NotificationChannel,
    NotificationContact,
    NotificationEvent,
    NotificationKind,
    NotificationTemplate,
    RenderError,
    WebhookSubscription,
    after_failure,
    check_contact,
    check_template,
    check_webhook,
    choose_template,
    default_template,
    event_params,
    parse_kinds,
    render,
    retry_delay_s,
    signature,
    signature_header,
    verify_signature,
)

AT = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EMAIL = NotificationChannel.EMAIL
SMS = NotificationChannel.SMS


def _template(
    body: str,
    subject: str | None = "Hi",
    language: str = "en",
    channel: NotificationChannel = EMAIL,
) -> NotificationTemplate:
    return NotificationTemplate(NotificationKind.THRESHOLD, channel, language, subject, body)


# -- rendering ---------------------------------------------------------------------------------


def test_render_substitutes_event_and_common_params() -> None:
    event = NotificationEvent(
        NotificationKind.THRESHOLD, 7, AT, "k", {"balance": "DATA", "threshold_percent": 80}
    )
    params = event_params(event, "31600000001")
    subject, body = render(
        _template("${subscriber} used ${threshold_percent}% of $balance", "Alert ${kind}"), params
    )
    assert subject == "Alert THRESHOLD"
    assert body == "31600000001 used 80% of DATA"


def test_render_names_the_missing_parameter() -> None:
    with pytest.raises(RenderError, match="'remaining'"):
        render(_template("left: ${remaining}"), {"balance": "DATA"})


def test_dollar_escape_renders_a_dollar() -> None:
    assert render(_template("costs $$5"), {})[1] == "costs $5"


def test_language_fallback_exact_then_base_then_default() -> None:
    templates = {lang: _template(lang, language=lang) for lang in ("en", "pt", "pt-br")}
    assert choose_template(templates, "pt-br") is templates["pt-br"]
    assert choose_template(templates, "pt-pt") is templates["pt"]
    assert choose_template(templates, "fr") is templates["en"]
    assert choose_template({"de": templates["pt"]}, "fr") is None


# -- template checks ---------------------------------------------------------------------------


def test_check_template_normalises_language() -> None:
    assert check_template(_template("x", language=" PT-BR ")).language == "pt-br"


@pytest.mark.parametrize(
    ("template", "field", "text"),
    [
        (_template("${remainig} left"), "body", "unknown parameter(s) remainig"),
        (_template("ok", subject="${nope}"), "subject", "unknown parameter(s) nope"),
        (_template("costs $5"), "body", "malformed placeholder at character 7"),
        (_template("ok", subject=None), "subject", "needs a subject"),
        (_template("ok", subject="a\nb"), "subject", "one line"),
        (_template("ok", channel=SMS), "subject", "has no subject"),
        (_template("x" * 641, subject=None, channel=SMS), "body", "at most 640"),
        (_template("  "), "body", "must not be empty"),
        (_template("ok", language="english"), "language", "ISO 639"),
    ],
)
def test_check_template_refuses(template: NotificationTemplate, field: str, text: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_template(template)
    assert caught.value.field == field
    assert text in caught.value.detail


def test_threshold_parameter_is_unknown_for_recurrence() -> None:
    template = NotificationTemplate(
        NotificationKind.RECURRENCE, SMS, "en", None, "${threshold_percent}%"
    )
    with pytest.raises(DomainError, match="threshold_percent"):
        check_template(template)


@pytest.mark.parametrize(("kind", "channel"), sorted(DEFAULT_TEMPLATES))
def test_built_in_templates_pass_the_checks(
    kind: NotificationKind, channel: NotificationChannel
) -> None:
    template = default_template(kind, channel)
    assert template is not None
    assert check_template(template) == template


# -- backoff -----------------------------------------------------------------------------------


def test_retry_delay_doubles_up_to_the_cap() -> None:
    delays = [retry_delay_s(n, base_s=30, max_s=600) for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    assert retry_delay_s(10_000, base_s=30, max_s=600) == 600


def test_retry_delay_needs_a_failed_attempt() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        retry_delay_s(0)


def test_after_failure_schedules_then_gives_up() -> None:
    assert after_failure(2, AT, 3, 30, 600) == (
        DeliveryState.PENDING,
        AT + timedelta(seconds=60),
    )
    assert after_failure(3, AT, 3, 30, 600) == (DeliveryState.FAILED, AT)


# -- signatures --------------------------------------------------------------------------------

SECRET = "a-long-shared-secret"
BODY = b'{"kind":"THRESHOLD"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1700000000, BODY) == expected
    assert signature_header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_verify_accepts_a_fresh_signature() -> None:
    header = signature_header(SECRET, 1700000000, BODY)
    assert verify_signature(SECRET, header, BODY, now_s=1700000100)


@pytest.mark.parametrize(
    ("secret", "body", "now_s"),
    [
        ("another-secret-value", BODY, 1700000000),  # wrong key
        (SECRET, BODY + b" ", 1700000000),  # tampered body
        (SECRET, BODY, 1700000000 + 301),  # replayed after the tolerance
        (SECRET, BODY, 1700000000 - 301),  # from the future
    ],
)
def test_verify_refuses(secret: str, body: bytes, now_s: int) -> None:
    header = signature_header(SECRET, 1700000000, BODY)
    assert not verify_signature(secret, header, body, now_s)


def test_verify_refuses_a_malformed_header() -> None:
    assert not verify_signature(SECRET, "v1=abc", BODY, 1700000000)
    assert not verify_signature(SECRET, "t=x,v1=abc", BODY, 1700000000)


# -- contacts and webhooks ---------------------------------------------------------------------


def test_contact_is_normalised_and_checked() -> None:
    contact = check_contact(NotificationContact(1, " ana@example.com ", "PT"))
    assert (contact.email, contact.language) == ("ana@example.com", "pt")
    assert check_contact(NotificationContact(1, "", None)).email is None
    with pytest.raises(DomainError, match="address") as caught:
        check_contact(NotificationContact(1, "ana@", None))
    assert caught.value.field == "email"


def test_webhook_filters_by_kind_provider_and_active() -> None:
    hook = WebhookSubscription(
        "crm", "https://crm.example/hook", SECRET, frozenset({NotificationKind.EXHAUSTED}), "SP1"
    )
    assert hook.wants(NotificationKind.EXHAUSTED, "SP1")
    assert not hook.wants(NotificationKind.THRESHOLD, "SP1")
    assert not hook.wants(NotificationKind.EXHAUSTED, "SP2")
    assert WebhookSubscription(
        "all", "https://x.example", SECRET, frozenset(NotificationKind)
    ).wants(NotificationKind.THRESHOLD, "SP2")
    inactive = WebhookSubscription(
        "off", "https://x", SECRET, frozenset(NotificationKind), None, False
    )
    assert not inactive.wants(NotificationKind.THRESHOLD, "SP1")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "bad name"}, "name"),
        ({"url": "ftp://x.example"}, "url"),
        ({"secret": "short"}, "secret"),
        ({"kinds": frozenset()}, "kinds"),
    ],
)
def test_check_webhook_refuses(changes: dict[str, object], field: str) -> None:
    from dataclasses import replace

    hook = WebhookSubscription("crm", "https://crm.example", SECRET, frozenset(NotificationKind))
    with pytest.raises(DomainError) as caught:
        check_webhook(replace(hook, **changes))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_parse_kinds_names_an_unknown_kind() -> None:
    assert parse_kinds(["threshold", " EXHAUSTED"]) == {
        NotificationKind.THRESHOLD,
        NotificationKind.EXHAUSTED,
    }
    with pytest.raises(DomainError, match="'LOW'"):
        parse_kinds(["LOW"])
