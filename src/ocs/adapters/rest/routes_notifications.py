"""Notifications: templates, webhook subscriptions, subscriber contacts, and the deliveries
with their state, attempts and last error (plus retrying a FAILED one)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from ocs.core.notifications import (
    Delivery,
    NotificationContact,
    NotificationTemplate,
    Recipient,
    WebhookSubscription,
)
from ocs.service.actor import Actor
from ocs.service.notifications import (
    DeliveryFilter,
    NotificationService,
    TemplateInput,
    WebhookInput,
)

from .auth import current_actor

router = APIRouter(tags=["notifications"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TemplateBody(Body):
    subject: StrictStr | None = Field(None, description="EMAIL only; ${param} placeholders")
    body: StrictStr = Field(description="string.Template text with ${param} placeholders")


class WebhookBody(Body):
    url: StrictStr
    secret: StrictStr = Field(description="HMAC-SHA256 key, at least 16 characters")
    kinds: list[StrictStr] = Field(description="Notification kinds this subscription receives")
    service_provider: StrictStr | None = None
    active: StrictBool = True


class WebhookCreate(WebhookBody):
    name: StrictStr


class ContactBody(Body):
    email: StrictStr | None = None
    language: StrictStr | None = Field(None, description="Overrides the subscriber's language")


class PreviewBody(Body):
    language: StrictStr = "en"
    params: dict[str, StrictStr] = Field(default_factory=dict)


class WebhookView(BaseModel):
    """A subscription without its secret, which is write-only."""

    name: str
    url: str
    kinds: list[str]
    service_provider: str | None
    active: bool


def _view(webhook: WebhookSubscription) -> WebhookView:
    return WebhookView(
        name=webhook.name,
        url=webhook.url,
        kinds=sorted(k.value for k in webhook.kinds),
        service_provider=webhook.service_provider,
        active=webhook.active,
    )


def _service(request: Request) -> NotificationService:
    return request.app.state.services.notifications  # type: ignore[no-any-return]


# -- templates ---------------------------------------------------------------------------------


@router.get("/notification-templates")
def list_templates(
    request: Request, actor: Actor = Depends(current_actor)
) -> list[NotificationTemplate]:
    return _service(request).list_templates(actor)


@router.get("/notification-templates/{kind}/{channel}/{language}")
def get_template(
    request: Request,
    kind: str,
    channel: str,
    language: str,
    actor: Actor = Depends(current_actor),
) -> NotificationTemplate:
    return _service(request).get_template(actor, kind, channel, language)


@router.put("/notification-templates/{kind}/{channel}/{language}")
def put_template(
    request: Request,
    kind: str,
    channel: str,
    language: str,
    body: TemplateBody,
    actor: Actor = Depends(current_actor),
) -> NotificationTemplate:
    inp = TemplateInput(kind, channel, language, body.body, body.subject)
    return _service(request).put_template(actor, inp)


@router.delete("/notification-templates/{kind}/{channel}/{language}", status_code=204)
def delete_template(
    request: Request,
    kind: str,
    channel: str,
    language: str,
    actor: Actor = Depends(current_actor),
) -> Response:
    _service(request).delete_template(actor, kind, channel, language)
    return Response(status_code=204)


@router.post("/notification-templates/{kind}/{channel}/preview")
def preview_template(
    request: Request,
    kind: str,
    channel: str,
    body: PreviewBody,
    actor: Actor = Depends(current_actor),
) -> dict[str, str | None]:
    subject, text = _service(request).preview(actor, kind, channel, body.language, body.params)
    return {"subject": subject, "body": text}


# -- webhooks ----------------------------------------------------------------------------------


@router.get("/notification-webhooks")
def list_webhooks(request: Request, actor: Actor = Depends(current_actor)) -> list[WebhookView]:
    return [_view(w) for w in _service(request).list_webhooks(actor)]


@router.post("/notification-webhooks", status_code=201)
def create_webhook(
    request: Request, body: WebhookCreate, actor: Actor = Depends(current_actor)
) -> WebhookView:
    inp = WebhookInput(
        body.name, body.url, body.secret, tuple(body.kinds), body.service_provider, body.active
    )
    return _view(_service(request).create_webhook(actor, inp))


@router.get("/notification-webhooks/{name}")
def get_webhook(request: Request, name: str, actor: Actor = Depends(current_actor)) -> WebhookView:
    return _view(_service(request).get_webhook(actor, name))


@router.put("/notification-webhooks/{name}")
def update_webhook(
    request: Request, name: str, body: WebhookBody, actor: Actor = Depends(current_actor)
) -> WebhookView:
    inp = WebhookInput(
        name, body.url, body.secret, tuple(body.kinds), body.service_provider, body.active
    )
    return _view(_service(request).update_webhook(actor, name, inp))


@router.delete("/notification-webhooks/{name}", status_code=204)
def delete_webhook(request: Request, name: str, actor: Actor = Depends(current_actor)) -> Response:
    _service(request).delete_webhook(actor, name)
    return Response(status_code=204)


# -- contacts ----------------------------------------------------------------------------------


@router.get("/subscribers/{subscriber_id}/notification-contact")
def get_contact(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> NotificationContact:
    return _service(request).get_contact(actor, subscriber_id)


@router.put("/subscribers/{subscriber_id}/notification-contact")
def put_contact(
    request: Request,
    subscriber_id: int,
    body: ContactBody,
    actor: Actor = Depends(current_actor),
) -> NotificationContact:
    return _service(request).put_contact(actor, subscriber_id, body.email, body.language)


@router.get("/subscribers/{subscriber_id}/notification-recipient")
def get_recipient(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> Recipient:
    return _service(request).recipient(actor, subscriber_id)


# -- deliveries --------------------------------------------------------------------------------


@router.get("/notification-deliveries")
def list_deliveries(
    request: Request,
    subscriber_id: int | None = None,
    state: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
    limit: int = Query(100, ge=1, le=500),
    actor: Actor = Depends(current_actor),
) -> list[Delivery]:
    query = DeliveryFilter(subscriber_id, state, kind, channel, limit)
    return _service(request).list_deliveries(actor, query)


@router.get("/notification-deliveries/counts")
def delivery_counts(request: Request, actor: Actor = Depends(current_actor)) -> dict[str, int]:
    return {state.value: n for state, n in _service(request).counts(actor).items()}


@router.get("/notification-deliveries/{delivery_id}")
def get_delivery(
    request: Request, delivery_id: int, actor: Actor = Depends(current_actor)
) -> Delivery:
    return _service(request).get_delivery(actor, delivery_id)


@router.post("/notification-deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request, delivery_id: int, actor: Actor = Depends(current_actor)
) -> Delivery:
    return _service(request).retry(actor, delivery_id)
