"""The alert stream: pushes `alert.created` / `alert.updated`, filtered by the client's
`severity_min`; answers `ping`; takes fresh tokens (`auth`); closes when the credentials
run out; reports malformed messages without dropping the client.

Resuming (`?since=<seq>`): the consumer joins the broadcaster first, holding what it
relays, then replays the change log after `since` to its end, then the held pushes;
from the first replayed push on, a push whose seq is not above the last one sent is
dropped. The broadcaster relays, in seq order, every change after the last seq it read
before joining the group (at the latest, every change committed after the join), and
the log holds every change committed before the replay's last read: so each change
after `since` is sent once, in order, across the seam.
"""

import asyncio
import json
import logging
import math
import re
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol, TypeGuard
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from secalerts.accounts.identity import Identity
from secalerts.accounts.websocket_auth import stream_identity
from secalerts.alerts import changes
from secalerts.alerts.broadcast import broadcaster
from secalerts.alerts.notifications import logged_pushes
from secalerts.detection.schema import SEVERITY_RANK, iso_time

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# A part the stream needs is down (the channel layer): come back later. As 4401/4403 do,
# the code mirrors HTTP; servers may only send 1000 or 3000-4999.
CLOSE_TRY_AGAIN_LATER = 4503
# A malformed `since` or `severity_min` in the URL: the stream cannot start as asked.
CLOSE_BAD_REQUEST = 4400
REPLAY_PAGE = 500
_SEQ = re.compile(r"[0-9]{1,18}")  # a BIGINT holds any 18 digits

logger = logging.getLogger(__name__)

check_credentials = database_sync_to_async(stream_identity)
resumable = database_sync_to_async(changes.resumable)
replay_page = database_sync_to_async(logged_pushes)


class BadRequest(ValueError):
    pass


def stream_options(query_string: bytes) -> tuple[int | None, str | None]:
    """`since` and `severity_min` of the stream's URL (each may be absent)."""
    query = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
    since, level = query.get("since", [None])[-1], query.get("severity_min", [None])[-1]
    if since is not None and not _SEQ.fullmatch(since):
        raise BadRequest("since must be the seq of a push: a whole number, 0 or more.")
    if level is not None and level not in SEVERITY_RANK:
        raise BadRequest(f"severity_min must be one of {', '.join(SEVERITY_RANK)}.")
    return (int(since) if since is not None else None), level


def may_stream(identity: Identity | None) -> TypeGuard[Identity]:
    return identity is not None and bool(identity.roles)


def refusal(identity: Identity | None) -> int:
    """The close code for credentials that may not (or no longer) hold a stream."""
    return CLOSE_UNAUTHENTICATED if identity is None else CLOSE_FORBIDDEN


class Clock(Protocol):
    """Seconds since the epoch, as token expiries are written; tests drive a fake one."""

    def time(self) -> float: ...

    async def wait(self, seconds: float) -> None: ...


class WallClock:
    def time(self) -> float:
        return time.time()

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AlertStreamConsumer(AsyncJsonWebsocketConsumer):
    # No channel of its own: pushes come through this process's broadcaster. So a
    # socket costs the layer nothing, and an unreachable Redis cannot fail the
    # handshake (the client gets 4503 from connect instead of an HTTP 500).
    # types-channels type the alias as str; None is the alias Channels finds no layer for.
    channel_layer_alias = None  # type: ignore[assignment]
    severity_min = 0
    joined = False
    ending = False
    token: str | None
    identity: Identity
    _watch: asyncio.Task[None] | None = None
    _replay: asyncio.Task[None] | None = None
    # While replaying: the broadcaster's pushes, sent after the replay.
    held: deque[dict[str, Any]] | None = None
    # The seq of the last push sent (or passed over by the severity filter).
    last_seq: int | None = None
    clock: Clock = WallClock()

    async def connect(self) -> None:
        # Accept first: a close before accept reaches clients as a bare HTTP 403.
        await self.accept()
        # Set by accounts.websocket_auth, in keys Channels' scope type does not know.
        found, token = self.scope.get("stream_identity"), self.scope.get("stream_token")
        identity = found if isinstance(found, Identity) else None
        if not may_stream(identity):
            await self.end(refusal(identity))
            return
        self.token, self.identity = token if isinstance(token, str) else None, identity
        try:
            since, level = stream_options(self.scope.get("query_string", b""))
        except BadRequest as problem:
            await self.error(str(problem))
            await self.end(CLOSE_BAD_REQUEST)
            return
        if level is not None:
            self.severity_min = SEVERITY_RANK[level]
        if since is not None:
            self.held = deque()
        try:
            await broadcaster().add(self)
        except Exception:  # the channel layer is unreachable: ask the client to come back
            logger.warning("alert stream: channel layer unavailable at connect", exc_info=True)
            await self.end(CLOSE_TRY_AGAIN_LATER)
            return
        self.joined = True
        self._watch_credentials()
        if since is not None:
            self._replay = asyncio.create_task(self._resume(since))

    async def _resume(self, since: int) -> None:
        """Sends the logged changes after `since`, or `resync` when the log no longer
        holds them all; then what the broadcaster relayed meanwhile."""
        try:
            if await resumable(since, now=timezone.now()):
                self.last_seq = since
                while not self.ending:
                    after = self.last_seq
                    page = await replay_page(after=after, limit=REPLAY_PAGE)
                    if not page.complete:  # pruned while replaying
                        await self.send_json({"type": "resync"})
                        break
                    if page.last_seq == after:  # the end of the log
                        break
                    for push in page.pushes:
                        await self._deliver(push)
                    self.last_seq = page.last_seq  # changes of deleted alerts have no push
            else:
                await self.send_json({"type": "resync"})
        except Exception:  # the database is unreachable: the client comes back, same since
            logger.warning("alert stream: replay failed", exc_info=True)
            await self.end(CLOSE_TRY_AGAIN_LATER)
            return
        held = self.held
        while held:
            await self._deliver(held.popleft())
        self.held = None  # no await since the last check: nothing is left behind

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def end(self, code: int) -> None:
        """Closes the stream with `code`; nothing is pushed to it after this."""
        self.ending = True
        await self._leave()
        await self.close(code=code)

    async def _leave(self) -> None:
        for task in (self._watch, self._replay):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._watch = self._replay = None
        if self.joined:
            self.joined = False
            await broadcaster().discard(self)

    def _watch_credentials(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        self._watch = asyncio.create_task(self._close_when_credentials_end())

    async def _close_when_credentials_end(self) -> None:
        """At the token's expiry: 4401. Every STREAM_RECHECK_SECONDS before it: the user
        and token checked again, as at connect (a deactivated user: 4401; no role: 4403)."""
        while True:
            expires_at = self.identity.expires_at
            until_expiry = expires_at - self.clock.time() if expires_at is not None else math.inf
            recheck_seconds = settings.STREAM_RECHECK_SECONDS
            if until_expiry <= recheck_seconds:
                await self.clock.wait(max(until_expiry, 0))
                await self.end(CLOSE_UNAUTHENTICATED)
                return
            await self.clock.wait(recheck_seconds)
            identity = await check_credentials(self.token)
            if not may_stream(identity):
                await self.end(refusal(identity))
                return
            self.identity = identity

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.ending:
            return
        try:
            message = json.loads(text_data if text_data is not None else bytes_data or b"")
        except (ValueError, UnicodeDecodeError):
            await self.error("Messages must be JSON objects.")
            return
        await self.receive_json(message)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            level = content.get("severity_min", "info")
            if not isinstance(level, str) or level not in SEVERITY_RANK:
                await self.error(f"severity_min must be one of {', '.join(SEVERITY_RANK)}.")
                return
            self.severity_min = SEVERITY_RANK[level]
            await self.send_json({"type": "subscribed", "severity_min": level})
        elif kind == "auth":
            await self.reauthenticate(content.get("token"))
        else:
            await self.error(
                'Unknown message: send {"type": "ping"}, {"type": "subscribe"} or {"type": "auth"}.'
            )

    async def reauthenticate(self, raw: Any) -> None:
        """A fresh access token extends the stream to its expiry. A bad token, or one of
        another user (a stream stays with the user who opened it), closes with 4401."""
        token = raw if isinstance(raw, str) else None
        identity = await check_credentials(token)
        if identity is not None and identity.user_id != self.identity.user_id:
            identity = None
        if not may_stream(identity):
            await self.end(refusal(identity))
            return
        self.token, self.identity = token, identity
        self._watch_credentials()
        await self.send_json({"type": "authenticated", "expires_at": _iso(identity.expires_at)})

    async def error(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})

    async def push(self, message: dict[str, Any]) -> bool:
        """An `alert.created` / `alert.updated` push (or a `resync`), relayed by this
        process's broadcaster, in seq order; whether it was sent now (not held during a
        replay, a repeat or filtered out)."""
        if self.held is not None:
            self.held.append(message)
            return False
        return await self._deliver(message)

    async def _deliver(self, message: dict[str, Any]) -> bool:
        if self.ending:
            return False
        seq = message.get("seq")
        if seq is not None:
            if self.last_seq is not None and seq <= self.last_seq:
                return False  # sent already, from the log
            self.last_seq = seq
        severity = message["severity"]
        if severity is None or SEVERITY_RANK.get(severity, 0) >= self.severity_min:
            await self.send(text_data=message["text"])
            return True
        return False


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else iso_time(datetime.fromtimestamp(epoch, UTC))
