"""Real receivers for the tests: an HTTP server on 127.0.0.1 that records what it is sent
(and can answer 503, or hold requests until released), and an SMTP server (aiosmtpd)."""

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    ok: bool = True  # answered 2xx

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Signature-256", ""))


@dataclass
class WebhookReceiver:
    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200  # what it answers; 503 plays "down"
    hold: threading.Event | None = None  # set: requests wait for release() before answering
    waiting: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [r.json()["delivery_id"] for r in self.received if r.ok]

    def release(self) -> None:
        if self.hold is not None:
            self.hold.set()


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    state: dict[str, WebhookReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = state["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if receiver.hold is not None and not receiver.hold.is_set():
                with receiver.lock:
                    receiver.waiting += 1
                receiver.hold.wait(120)
            status = receiver.status
            record = Received(self.path, dict(self.headers.items()), body, 200 <= status < 300)
            with receiver.lock:
                receiver.received.append(record)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the worker's parallel sends, not refused at 5

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["r"] = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        state["r"].release()
        server.shutdown()
        server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.original_content or envelope.content)
        message["X-Rcpt-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    """A real SMTP server on 127.0.0.1: (port, messages received)."""
    mailbox = _Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox.messages
    finally:
        controller.stop()
