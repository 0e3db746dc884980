"""Real receivers on 127.0.0.1 for notification tests: an SMTP server (aiosmtpd) and an HTTP
endpoint that records requests and can answer 503 for its first requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.postgres import free_port


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: Message


class _MailHandler:
    def __init__(self, inbox: list[ReceivedMail]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.inbox.append(
            ReceivedMail(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                message_from_bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server that can be down (nothing listening: connection refused) and come up
    on the same port later."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox: list[ReceivedMail] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        controller = Controller(_MailHandler(self.inbox), hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_sink(started: bool = True) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    if started:
        sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpSink:
    url: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    # Answer 503 to this many requests first (a receiver that is down for a while).
    fail_first: int = 0
    status: int = 200
    seen: int = 0


@contextmanager
def http_sink(fail_first: int = 0) -> Iterator[HttpSink]:
    port = free_port()
    sink = HttpSink(url=f"http://127.0.0.1:{port}", fail_first=fail_first)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                sink.seen += 1
                status = 503 if sink.seen <= sink.fail_first else sink.status
                # Only accepted requests count as received.
                if status < 300:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    sink.requests.append(ReceivedRequest(self.path, headers, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
