"""E-mail channel: sends a delivery as a plain-text message over SMTP (stdlib smtplib)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from ocs.service.notification_ports import DeliveryError, OutgoingMessage


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "ocs@localhost"
    username: str | None = None
    password: str | None = None
    # STARTTLS on a plain connection (port 587), or TLS from the start (port 465).
    starttls: bool = False
    tls: bool = False
    timeout_s: float = 30.0


class SmtpEmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> None:
        s = self.settings
        email = EmailMessage()
        email["From"] = s.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        domain = s.sender.rpartition("@")[2] or "localhost"
        # A stable Message-ID per delivery lets mail systems drop a repeat after a crash.
        email["Message-ID"] = make_msgid(f"ocs-delivery-{message.delivery_id}", domain)
        email["X-OCS-Delivery"] = str(message.delivery_id)
        email.set_content(message.body)
        try:
            with self._connect() as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username is not None:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"SMTP server refused {message.recipient}: {codes}",
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(f"SMTP error {exc.smtp_code}: {text}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {type(exc).__name__}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls:
            return smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
            )
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
