"""One channel-layer subscription per process, fanned out to that process's stream clients.

With every consumer in the group, the channel layer queues and dispatches each push
once per connected client, through a bounded queue each: under load a client that
falls behind silently loses pushes (bench/soak.py with 200 listeners lost most of them).
Here each process receives a push once and writes it to each of its sockets, which
costs a fraction of that and drops nothing for a connected client. Writes go to
the server's send buffer, so a slow client never holds up the others.

Pushes are relayed in seq order, each once: pushes of different processes (or threads)
may reach the channel in another order than their changes committed, and a channel
layer drops messages when a channel is full. A push whose seq is not the next one is
preceded by the changes between, read from the change log (alerts.changes: gap-free,
in commit order); a push that then arrives is dropped as already relayed.
"""

import asyncio
import contextlib
import logging
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer

from secalerts.alerts import changes
from secalerts.alerts.notifications import ALERTS_GROUP, logged_pushes
from secalerts.core import metrics

RESYNC = {"severity": None, "text": '{"type":"resync"}'}
FILL_PAGE = 500

RETRY_SECONDS = 1.0
logger = logging.getLogger(__name__)


class Listener(Protocol):
    async def push(self, message: dict[str, Any]) -> bool:
        """Whether the message was written to the client (its filter may leave it out)."""
        ...


class Broadcaster:
    """The listeners of one event loop, and the task relaying the group's pushes to them."""

    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self._relay: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # The seq of the last push relayed; every later one is relayed, in order.
        self.last_seq = 0

    async def add(self, listener: Listener) -> None:
        """Raises if the channel layer cannot be reached (the consumer then closes)."""
        async with self._lock:
            if self._relay is None:
                layer = get_channel_layer()
                if layer is None:
                    raise RuntimeError("CHANNEL_LAYERS has no default layer")
                # Read before joining the group: every later change is relayed, a push
                # sent before the join included (filled in from the log by the next one).
                # Read after, a change committed in between would be dropped as relayed.
                last_seq = await database_sync_to_async(changes.last_seq)()
                channel = await layer.new_channel()
                await layer.group_add(ALERTS_GROUP, channel)
                self.last_seq = last_seq
                self._relay = asyncio.create_task(self._forward(layer, channel))
            if listener not in self.listeners:
                self.listeners.add(listener)
                metrics.stream_client_joined()

    async def discard(self, listener: Listener) -> None:
        async with self._lock:
            if listener in self.listeners:
                self.listeners.discard(listener)
                metrics.stream_client_left()
            if not self.listeners and self._relay is not None:
                self._relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._relay
                self._relay = None

    async def _forward(self, layer: BaseChannelLayer, channel: str) -> None:
        try:
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("alert stream: channel layer unavailable", exc_info=True)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                # Pushes come together (notifications.PUSHES_PER_MESSAGE); one alone is
                # what a process of the previous release sends during a rolling upgrade.
                sent = 0  # counted once a message: pushes times clients is a hot loop
                for push in message.get("pushes", [message]):
                    sent += await self._relay_in_order(push)
                metrics.count_pushes(sent)
                # Writes only fill the sockets' buffers: give the server a turn to send them
                # (and to serve requests) before the next pushes, or a burst of them would
                # make every client look too slow (core.slow_clients).
                await asyncio.sleep(0)
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(ALERTS_GROUP, channel)

    async def _relay_in_order(self, push: dict[str, Any]) -> int:
        """Relays the push, after the logged changes it skipped over; the sends made."""
        seq = push.get("seq")
        if seq is None:  # a process of the previous release, during a rolling upgrade
            return await self._fan_out(push)
        if seq <= self.last_seq:
            return 0  # relayed already, filled in from the log
        sent = 0
        if seq > self.last_seq + 1:
            try:
                sent += await self._fill_in(seq)
            except Exception:  # the database is down: relay what came, clients resync
                logger.warning("alert stream: could not fill in from the log", exc_info=True)
                sent += await self._fan_out(RESYNC | {"seq": seq - 1})
        sent += await self._fan_out(push)
        self.last_seq = seq
        return sent

    async def _fill_in(self, before: int) -> int:
        """Relays the logged changes between the last relayed and `before`."""
        sent = 0
        while self.last_seq + 1 < before:
            replayed = await database_sync_to_async(logged_pushes)(
                after=self.last_seq, before=before, limit=FILL_PAGE
            )
            if not replayed.complete:  # pruned: only a resync tells the clients
                return sent + await self._fan_out(RESYNC | {"seq": before - 1})
            for push in replayed.pushes:
                sent += await self._fan_out(push)
            self.last_seq = replayed.last_seq
        return sent

    async def _fan_out(self, push: dict[str, Any]) -> int:
        sent = 0
        for listener in tuple(self.listeners):
            try:
                sent += await listener.push(push)
            except Exception:  # one broken socket must not stop the others'
                logger.warning("alert stream: push to one client failed", exc_info=True)
        return sent


_broadcasters: WeakKeyDictionary[asyncio.AbstractEventLoop, Broadcaster] = WeakKeyDictionary()


def broadcaster() -> Broadcaster:
    """This event loop's broadcaster (a server has one loop; tests start one per test)."""
    loop = asyncio.get_running_loop()
    found = _broadcasters.get(loop)
    if found is None:
        found = _broadcasters[loop] = Broadcaster()
    return found
