"""Syslog transports: TCP (RFC 6587 framing) and UDP (RFC 5426, a message a datagram) on one
port, senders checked against the allowed networks, lines handed to a Batcher."""

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable

from secalerts.syslog.batcher import Batcher, Counters, Line
from secalerts.syslog.framing import MAX_MESSAGE_BYTES, Deframer
from secalerts.syslog.senders import Network, is_allowed, sender_address

logger = logging.getLogger("secalerts.syslog")

READ_BYTES = 64 * 1024
# Room for bursts while a batch is being stored; the kernel caps it at net.core.rmem_max.
UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
SHUTDOWN_SECONDS = 10.0


def decode(message: bytes) -> str:
    return message.decode("utf-8", "replace")


class Listener:
    def __init__(self, *, batcher: Batcher, networks: tuple[Network, ...]) -> None:
        self.batcher = batcher
        self.counters: Counters = batcher.counters
        self._networks = networks
        self._tcp: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_socket: socket.socket | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        """Bind TCP, then UDP on the same port (the TCP one, if `port` is 0). Returns it.
        Raises OSError if either cannot bind."""
        loop = asyncio.get_running_loop()
        self._tcp = await asyncio.start_server(
            self._serve_connection, host, port, reuse_address=True, limit=READ_BYTES
        )
        port = self._tcp.sockets[0].getsockname()[1]
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER_BYTES)
            udp.bind(address)
        except OSError:
            udp.close()
            self._tcp.close()
            raise
        self._udp_socket = udp
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=udp)
        return port

    async def stop(self) -> None:
        """Stop taking lines, then store what was taken (for up to SHUTDOWN_SECONDS)."""
        if self._tcp is not None:
            self._tcp.close()
            self._tcp.close_clients()
        if self._udp is not None:
            self._udp.close()
        if self._connections:
            await asyncio.wait(self._connections, timeout=1)
        try:
            await asyncio.wait_for(self.batcher.drain(), SHUTDOWN_SECONDS)
        except TimeoutError:
            logger.error("syslog listener stopped with lines not stored (database unavailable)")

    def kernel_drops(self) -> int | None:
        """Datagrams the kernel dropped on our socket (its buffer was full): /proc/net/udp."""
        if self._udp_socket is None or self._udp_socket.fileno() < 0:
            return None
        inode = str(os.fstat(self._udp_socket.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                with open(table) as rows:
                    for row in rows:
                        fields = row.split()
                        if len(fields) > 12 and fields[9] == inode:
                            return int(fields[12])
            except OSError:
                return None
        return None

    def allowed(self, address: str) -> bool:
        return is_allowed(address, self._networks)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        address = sender_address(str(peer[0])) if peer else ""
        if not self.allowed(address):
            self.counters.refused_connections += 1
            writer.transport.abort()  # at once: not one byte read from a refused sender
            return
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        deframer = Deframer()
        try:
            while data := await reader.read(READ_BYTES):
                messages = deframer.feed(data)
                if messages:
                    # Not reading while the queue is full: the sender's TCP window closes,
                    # so it is slowed down and nothing is lost or buffered without bound.
                    await self.batcher.wait_for_room()
                    self.batcher.add([Line(address, decode(m)) for m in messages])
            self.batcher.add([Line(address, decode(m)) for m in deframer.close()])
        except ConnectionError:
            pass
        finally:
            self.counters.truncated += deframer.truncated
            writer.close()
            if task is not None:
                self._connections.discard(task)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.counters = listener.counters

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        address = sender_address(str(addr[0]))
        if not self.listener.allowed(address):
            self.counters.dropped_denied += 1
            return
        if self.listener.batcher.full:
            self.counters.dropped_full += 1
            return
        if len(data) > MAX_MESSAGE_BYTES:
            self.counters.truncated += 1
            data = data[:MAX_MESSAGE_BYTES]
        message = data.rstrip(b"\r\n\x00")
        if message:
            self.listener.batcher.add([Line(address, decode(message))])

    def error_received(self, exc: Exception) -> None:
        logger.warning("syslog UDP socket error: %s", exc)


async def run(
    *,
    host: str,
    port: int,
    networks: tuple[Network, ...],
    stats_seconds: float,
    on_ready: Callable[[int], None],
    batcher: Batcher | None = None,
) -> Counters:
    """Listen until SIGTERM or SIGINT, logging the counters every `stats_seconds`."""
    batcher = batcher or Batcher()
    listener = Listener(batcher=batcher, networks=networks)
    consumer = asyncio.create_task(batcher.run())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        port = await listener.start(host, port)
        on_ready(port)
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), stats_seconds)
                break
            log_counters(listener)
        await listener.stop()
        log_counters(listener)
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        batcher.close()
    return batcher.counters


def log_counters(listener: Listener) -> None:
    logger.info(
        "syslog counters",
        extra={**listener.counters.as_dict(), "kernel_drops": listener.kernel_drops()},
    )
