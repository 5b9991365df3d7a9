"""POST /api/events/ (and other ingest endpoints) served straight from ASGI: one thread
hop instead of Django's ~15.

Django behind an ASGI server spends most of a small request hopping between the event
loop and threads for each synchronous middleware. Ingestion is the one hot endpoint,
so it gets this direct path: the same authentication (SimpleJWT access token, active
user with a role), the same validation and answers as the DRF view (`endpoint`), the
same JSON errors and request log, and concurrent requests written together
(`writer`, grouped by `group_commit`). Anything unusual (another path or method, a host not in
ALLOWED_HOSTS, plain HTTP when HTTPS is required) falls through to Django.

Each path served has a reader (`writer.Reader`): what its body becomes and how it
is answered. Apps above events (intake) bring theirs; the wiring (asgi.py) joins them.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from weakref import WeakKeyDictionary

import msgspec
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from secalerts.core import metrics
from secalerts.core.errors import InvalidInput, PayloadTooLarge
from secalerts.ingest import writer
from secalerts.ingest.endpoint import read_request
from secalerts.ingest.group_commit import GroupCommitter
from secalerts.ingest.writer import Outcome, Reader, Request, failure_outcome

# As Daphne passes them and Django's ASGIHandler (the fallback) takes them.
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/events/"
logger = logging.getLogger("secalerts.request")
_encode = msgspec.json.Encoder().encode
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class DirectIngestApp:
    def __init__(self, fallback: ASGIApp, readers: Mapping[str, Reader] | None = None) -> None:
        self.fallback = fallback
        self.readers = {PATH: read_request, **(readers or {})}
        # One per event loop: a server has one, tests may start several.
        self._committers: WeakKeyDictionary[
            asyncio.AbstractEventLoop, GroupCommitter[Request, Outcome]
        ] = WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._handles(scope):
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        headers = {name.lower(): value for name, value in scope["headers"]}
        body = await _read_body(receive, settings.EVENTS_MAX_BODY_BYTES)
        # Other readers are the intake's (asgi.py joins them).
        counted_as = metrics.HTTP if path == PATH else metrics.INTAKE
        if isinstance(body, Outcome):
            outcome = body
            if outcome.status == PayloadTooLarge.status_code:
                metrics.count_events(counted_as, rejected=1)
        else:
            request = Request(headers, body, self.readers[path], counted_as)
            outcome = await self._committer().submit(request)
        content = _encode(outcome.body)
        headers_out = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *_SECURITY_HEADERS,
            *_hsts(scope),
            *outcome.headers,
        ]
        await send(
            {"type": "http.response.start", "status": outcome.status, "headers": headers_out}
        )
        await send({"type": "http.response.body", "body": content})
        logger.info(
            "POST %s %s",
            path,
            outcome.status,
            extra={
                "method": "POST",
                "path": path,
                "status": outcome.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": outcome.user_id,
            },
        )

    def _committer(self) -> GroupCommitter[Request, Outcome]:
        loop = asyncio.get_running_loop()
        committer = self._committers.get(loop)
        if committer is None:
            committer = self._committers[loop] = writer.committer()
        return committer

    def _handles(self, scope: Scope) -> bool:
        if (
            scope["type"] != "http"
            or scope["path"] not in self.readers
            or scope["method"] != "POST"
        ):
            return False
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False  # Django answers 400 for a bad Host header
        return not (settings.SECURE_SSL_REDIRECT and not _is_secure(scope))


def _hsts(scope: Scope) -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware sends on HTTPS responses, so this path matches Django's."""
    seconds = settings.SECURE_HSTS_SECONDS
    if not seconds or not _is_secure(scope):
        return []
    value = f"max-age={seconds}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return [(b"strict-transport-security", value.encode())]


def _is_secure(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy:
        return False
    name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
    return any(k == name and v.decode("latin-1") == proxy[1] for k, v in scope["headers"])


async def _read_body(receive: Receive, limit: int) -> bytes | Outcome:
    """The body, or the answer when there is none to take."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return failure_outcome(InvalidInput("Client disconnected."))
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return failure_outcome(PayloadTooLarge(f"Request body is larger than {limit} bytes."))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
