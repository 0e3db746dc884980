"""Wiring of the notification channels from the settings: a channel is on when configured."""

from __future__ import annotations

from ocs.adapters.notify_email import SmtpEmailSender, SmtpSettings
from ocs.adapters.notify_sms import HttpSmsGatewaySender, SmsGatewaySettings
from ocs.adapters.notify_webhook import WebhookSender
from ocs.config import Settings
from ocs.core.notifications import NotificationChannel
from ocs.service.notification_delivery import DeliverySettings, NotificationDelivery
from ocs.service.notification_ports import NotificationSender
from ocs.service.ports import Clock, Store


def notification_senders(
    settings: Settings, clock: Clock
) -> dict[NotificationChannel, NotificationSender]:
    senders: dict[NotificationChannel, NotificationSender] = {
        NotificationChannel.WEBHOOK: WebhookSender(clock.now, settings.webhook_timeout_s)
    }
    if settings.smtp_host:
        senders[NotificationChannel.EMAIL] = SmtpEmailSender(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
                tls=settings.smtp_tls,
            )
        )
    if settings.sms_gateway_url:
        senders[NotificationChannel.SMS] = HttpSmsGatewaySender(
            SmsGatewaySettings(
                url=settings.sms_gateway_url,
                sender_id=settings.sms_sender_id,
                token=settings.sms_gateway_token,
            )
        )
    return senders


def build_notification_delivery(
    store: Store, clock: Clock, settings: Settings
) -> NotificationDelivery:
    return NotificationDelivery(
        store,
        clock,
        notification_senders(settings, clock),
        DeliverySettings(
            max_attempts=settings.notification_max_attempts,
            retry_base_delay_s=settings.notification_retry_base_s,
            retry_max_delay_s=settings.notification_retry_max_s,
        ),
    )
