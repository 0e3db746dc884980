"""`ocs notification ...`: templates, webhook subscriptions, subscriber contacts, deliveries,
and one pass of the delivery worker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.core.notifications import WebhookSubscription
from ocs.service.notifications import DeliveryFilter, TemplateInput, WebhookInput

app = typer.Typer(help="Notifications: templates, webhooks, contacts and deliveries.")

Kinds = Annotated[
    list[str], typer.Option("--kind", help="Notification kind to receive (repeatable)")
]


def _webhook(webhook: WebhookSubscription) -> dict[str, Any]:
    # The secret is write-only: never printed.
    return {
        "name": webhook.name,
        "url": webhook.url,
        "kinds": sorted(k.value for k in webhook.kinds),
        "service_provider": webhook.service_provider,
        "active": webhook.active,
    }


def _text(body: str | None, body_file: Path | None) -> str:
    if body_file is not None:
        return body_file.read_text(encoding="utf-8")
    if body is None:
        raise typer.BadParameter("give --body or --body-file")
    return body


@app.command("template-put")
def template_put(
    kind: str,
    channel: Annotated[str, typer.Argument(help="EMAIL or SMS")],
    language: str,
    body: Annotated[str | None, typer.Option(help="Text with ${param} placeholders")] = None,
    body_file: Annotated[Path | None, typer.Option(help="Read the body from a file")] = None,
    subject: Annotated[str | None, typer.Option(help="EMAIL only")] = None,
    reason: Reason = None,
) -> None:
    """Create or replace the template of a kind, channel and language."""
    inp = TemplateInput(kind, channel, language, _text(body, body_file), subject)
    run_action(lambda: cli_services().notifications.put_template(cli_actor(reason), inp))


@app.command("template-list")
def template_list() -> None:
    run_action(lambda: cli_services().notifications.list_templates(cli_actor()))


@app.command("template-show")
def template_show(kind: str, channel: str, language: str) -> None:
    run_action(
        lambda: cli_services().notifications.get_template(cli_actor(), kind, channel, language)
    )


@app.command("template-delete")
def template_delete(kind: str, channel: str, language: str, reason: Reason = None) -> None:
    def action() -> dict[str, str]:
        service = cli_services().notifications
        service.delete_template(cli_actor(reason), kind, channel, language)
        return {"deleted": f"{kind}/{channel}/{language}"}

    run_action(action)


@app.command("template-preview")
def template_preview(
    kind: str,
    channel: str,
    language: Annotated[str, typer.Option()] = "en",
    param: Annotated[list[str] | None, typer.Option(help="NAME=VALUE (repeatable)")] = None,
) -> None:
    """Render the template a subscriber of that language would get."""
    params = dict(p.split("=", 1) for p in param or [] if "=" in p)

    def action() -> dict[str, str | None]:
        service = cli_services().notifications
        subject, text = service.preview(cli_actor(), kind, channel, language, params)
        return {"subject": subject, "body": text}

    run_action(action)


@app.command("webhook-add")
def webhook_add(
    name: str,
    url: str,
    secret: Annotated[str, typer.Option(help="HMAC-SHA256 key (16+ characters)")],
    kind: Kinds,
    provider: Annotated[str | None, typer.Option(help="Only this service provider")] = None,
    reason: Reason = None,
) -> None:
    """Subscribe a URL to notification kinds; payloads are signed with the secret."""
    inp = WebhookInput(name, url, secret, tuple(kind), provider)
    run_action(
        lambda: _webhook(cli_services().notifications.create_webhook(cli_actor(reason), inp))
    )


@app.command("webhook-update")
def webhook_update(
    name: str,
    url: str,
    secret: Annotated[str, typer.Option(help="HMAC-SHA256 key (16+ characters)")],
    kind: Kinds,
    provider: Annotated[str | None, typer.Option(help="Only this service provider")] = None,
    active: Annotated[bool, typer.Option("--active/--inactive")] = True,
    reason: Reason = None,
) -> None:
    inp = WebhookInput(name, url, secret, tuple(kind), provider, active)
    run_action(
        lambda: _webhook(cli_services().notifications.update_webhook(cli_actor(reason), name, inp))
    )


@app.command("webhook-list")
def webhook_list() -> None:
    run_action(
        lambda: [_webhook(w) for w in cli_services().notifications.list_webhooks(cli_actor())]
    )


@app.command("webhook-delete")
def webhook_delete(name: str, reason: Reason = None) -> None:
    def action() -> dict[str, str]:
        cli_services().notifications.delete_webhook(cli_actor(reason), name)
        return {"deleted": name}

    run_action(action)


@app.command("contact-set")
def contact_set(
    subscriber_id: int,
    email: Annotated[str | None, typer.Option(help="E-mail address; empty to remove")] = None,
    language: Annotated[str | None, typer.Option(help="Notification language")] = None,
    reason: Reason = None,
) -> None:
    """Set the subscriber's notification e-mail address and language."""
    run_action(
        lambda: cli_services().notifications.put_contact(
            cli_actor(reason), subscriber_id, email, language
        )
    )


@app.command("contact-show")
def contact_show(subscriber_id: int) -> None:
    """Where the subscriber's notifications go (e-mail, MSISDN, language, SMS disabled)."""
    run_action(lambda: cli_services().notifications.recipient(cli_actor(), subscriber_id))


@app.command("deliveries")
def deliveries(
    subscriber: Annotated[int | None, typer.Option(help="Subscriber id")] = None,
    state: Annotated[str | None, typer.Option(help="PENDING, SENDING, SENT, ...")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """Deliveries, newest first."""
    query = DeliveryFilter(subscriber, state, kind, channel, limit)
    run_action(lambda: cli_services().notifications.list_deliveries(cli_actor(), query))


@app.command("delivery")
def delivery(delivery_id: int) -> None:
    """One delivery with its attempts, next attempt and last error."""
    run_action(lambda: cli_services().notifications.get_delivery(cli_actor(), delivery_id))


@app.command("retry")
def retry(delivery_id: int, reason: Reason = None) -> None:
    """Send a FAILED delivery again on the next worker pass."""
    run_action(lambda: cli_services().notifications.retry(cli_actor(reason), delivery_id))


@app.command("run-once")
def run_once() -> None:
    """Expand new events and send due deliveries once (the server does this every few s)."""
    run_action(lambda: cli_services().notification_delivery.run_once())
