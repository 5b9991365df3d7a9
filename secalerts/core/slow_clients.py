"""WebSocket clients that stop reading are closed (4408) and their send buffers dropped.

Daphne's ASGI `send` returns at once and Twisted buffers whatever a socket cannot take,
without bound: a client that stops reading made the server hold every push for it.
Twisted tells a transport's registered push producer when its buffer passes the
high-water mark (`pauseProducing`) and when it has drained (`resumeProducing`), so each
stream socket gets a `SendBacklog` as producer; a client that takes
STREAM_MAX_BEHIND_MESSAGES more messages while paused, or stays paused
STREAM_MAX_BEHIND_SECONDS, is sent close 4408 and aborted at once: a polite close
would only queue behind the data it is not reading.

Linux grows a socket's kernel send buffer up to 4 MiB, where Twisted cannot see it: the
stream sockets' buffer is set to STREAM_SEND_BUFFER_BYTES, so a client's backlog
reaches Twisted's buffer after that much (doubled by the kernel) and is counted there.

Twisted and Daphne only: applied by `server_tuning.tune_daphne()`; imports nothing of ours
but the metrics.
"""

import logging
import socket
import time
from typing import Any

from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet.abstract import FileDescriptor
from twisted.internet.interfaces import IDelayedCall, IPushProducer
from zope.interface import implementer

from secalerts.core import metrics

CLOSE_TOO_SLOW = 4408
logger = logging.getLogger(__name__)


@implementer(IPushProducer)
class SendBacklog:
    """How far behind one stream socket is: time since its transport's send buffer passed
    Twisted's high-water mark (`FileDescriptor.bufferSize`, 64 KiB), and messages written
    after that while the buffer has not drained."""

    def __init__(self, protocol: "GuardedWebSocketProtocol") -> None:
        self.protocol = protocol
        self.max_messages: int = settings.STREAM_MAX_BEHIND_MESSAGES
        self.max_seconds: float = settings.STREAM_MAX_BEHIND_SECONDS
        self.paused_since: float | None = None
        self.counting = False
        self.behind = 0
        self.closed = False
        self._deadline: IDelayedCall | None = None
        self._count_from: IDelayedCall | None = None

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's interface
        # Twisted calls this on every write while the buffer is full: only the first counts.
        if self.paused_since is not None or self.closed:
            return
        from twisted.internet import reactor  # Daphne installs its reactor before we run

        self.paused_since = time.monotonic()
        self._deadline = reactor.callLater(self.max_seconds, self.close_too_slow)
        # A burst of pushes fills the buffer before the reactor sends any of it: count
        # from the next turn of the reactor, which first writes what the socket takes.
        self._count_from = reactor.callLater(0, self._start_counting)

    def _start_counting(self) -> None:
        self.counting = True

    def resumeProducing(self) -> None:  # noqa: N802 - Twisted's interface
        self.paused_since = None
        self.counting = False
        self.behind = 0
        self._cancel_deadline()

    def stopProducing(self) -> None:  # noqa: N802 - Twisted's interface
        # The connection is gone: what is still buffered can never be delivered.
        self._cancel_deadline()
        drop_send_buffer(self.protocol.transport)

    def may_send(self) -> bool:
        """Counts one more message; False once this client is (now) being closed."""
        if self.closed:
            return False
        if self.counting:
            self.behind += 1
            if self.behind >= self.max_messages:
                self.close_too_slow()
                return False
        return True

    def close_too_slow(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._cancel_deadline()
        metrics.count_too_slow_close()
        protocol = self.protocol
        behind_seconds = time.monotonic() - (self.paused_since or time.monotonic())
        logger.warning(
            "alert stream: closed a client that stopped reading (%d messages, %.1f s behind)",
            self.behind,
            behind_seconds,
            extra={"client": protocol.client_addr},
        )
        transport = protocol.transport
        protocol.wasClean = False
        protocol.wasNotCleanReason = "client too slow"
        protocol.sendClose(code=CLOSE_TOO_SLOW)
        protocol.dropConnection(abort=True)
        drop_send_buffer(transport)

    def _cancel_deadline(self) -> None:
        for call in (self._deadline, self._count_from):
            if call is not None and call.active():
                call.cancel()
        self._deadline = self._count_from = None


def socket_transport(transport: Any) -> FileDescriptor | None:
    """The transport that owns the socket and its send buffer (TLS wraps it)."""
    while transport is not None and not isinstance(transport, FileDescriptor):
        transport = getattr(transport, "transport", None)
    return transport


def drop_send_buffer(transport: Any) -> None:
    """Frees what an aborted transport still holds for its peer. The transport and its
    protocol reference each other, so without this the buffer lives until a full
    garbage collection."""
    transport = socket_transport(transport)
    if transport is not None and (transport.disconnected or getattr(transport, "_aborting", False)):
        transport.dataBuffer = b""
        transport.offset = 0
        transport._tempDataBuffer = []
        transport._tempDataLen = 0


class GuardedWebSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol with a `SendBacklog` on its transport."""

    backlog: SendBacklog | None = None

    def onOpen(self) -> None:  # noqa: N802 - Autobahn's interface
        super().onOpen()
        self.backlog = SendBacklog(self)
        inner = socket_transport(self.transport)
        if inner is not None and hasattr(inner, "getHandle"):
            inner.getHandle().setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, settings.STREAM_SEND_BUFFER_BYTES
            )
        # Daphne hands the upgraded connection over with its HTTP channel still the
        # transport's producer; the channel has nothing left to produce.
        self.transport.unregisterProducer()
        self.transport.registerProducer(self.backlog, True)

    def serverSend(self, content: bytes | str, binary: bool = False) -> None:  # noqa: N802
        if self.backlog is not None and not self.backlog.may_send():
            return
        super().serverSend(content, binary)
