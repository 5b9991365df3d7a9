"""POST /api/events/ served straight from ASGI: one thread hop instead of Django's ~15.

Django behind an ASGI server spends most of a small request hopping between the event
loop and threads for each synchronous middleware. Ingestion is the one hot endpoint,
so it gets this direct path: the same authentication (SimpleJWT access token, active
user with a role), the same function as the DRF view (`endpoint.post_events`), the
same JSON errors and request log. Anything unusual (another path or method, a host
not in ALLOWED_HOSTS, plain HTTP when HTTPS is required) falls through to Django.
"""

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DataError, InterfaceError, OperationalError, close_old_connections
from django.http.request import split_domain_port, validate_host
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts.roles import GROUP_NAMES
from secalerts.core.api import DATABASE_UNAVAILABLE
from secalerts.core.errors import DomainError
from secalerts.events.endpoint import post_events

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/events/"
logger = logging.getLogger("secalerts.request")
_encode = msgspec.json.Encoder().encode
_ROLE_GROUPS = frozenset(GROUP_NAMES.values())
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: list | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or []


class DirectIngestApp:
    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._handles(scope):
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {name.lower(): value for name, value in scope["headers"]}
        user_id = None
        try:
            body = await _read_body(receive, settings.EVENTS_MAX_BODY_BYTES)
            status, payload, user_id = await _handle(headers, body)
            extra: list = []
        except HttpError as error:
            status, payload, extra = error.status, error.body, error.headers
        content = _encode(payload)
        headers_out = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *_SECURITY_HEADERS,
            *_hsts(scope),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": content})
        logger.info(
            "POST %s %s",
            PATH,
            status,
            extra={
                "method": "POST",
                "path": PATH,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user_id,
            },
        )

    def _handles(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
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


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HttpError(400, {"detail": "Client disconnected.", "code": "bad_request"})
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HttpError(
                413,
                {
                    "detail": f"Request body is larger than {limit} bytes.",
                    "code": "payload_too_large",
                },
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _authenticate(headers: dict[bytes, bytes]) -> int:
    """The user id of a valid access token of an active Admin or Analyst, else HttpError."""
    challenge = [(b"www-authenticate", b'Bearer realm="api"')]
    parts = headers.get(b"authorization", b"").split()
    if not parts or parts[0] != b"Bearer":
        raise HttpError(
            401,
            {
                "detail": "Authentication credentials were not provided.",
                "code": "not_authenticated",
            },
            challenge,
        )
    try:
        if len(parts) != 2:
            raise TokenError("Authorization header must contain two space-delimited values")
        token = AccessToken(parts[1].decode("ascii"))
        user_id = token[jwt_settings.USER_ID_CLAIM]
    except (TokenError, KeyError, UnicodeDecodeError) as error:
        raise HttpError(
            401,
            {"detail": "Given token not valid for any token type", "code": "token_not_valid"},
            challenge,
        ) from error
    rows = list(
        get_user_model()
        .objects.filter(pk=user_id, is_active=True)
        .values_list("is_superuser", "groups__name")
    )
    if not rows:
        raise HttpError(
            401, {"detail": "User not found or inactive.", "code": "user_not_found"}, challenge
        )
    if not any(superuser or group in _ROLE_GROUPS for superuser, group in rows):
        raise HttpError(
            403,
            {
                "detail": "You do not have permission to perform this action.",
                "code": "permission_denied",
            },
        )
    return int(user_id)


@sync_to_async
def _handle(headers: dict[bytes, bytes], body: bytes) -> tuple[int, dict[str, Any], int]:
    close_old_connections()  # what Django's request_started signal does, for CONN_MAX_AGE
    try:
        user_id = _authenticate(headers)
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        status, payload = post_events(body, content_type)
        return status, payload, user_id
    except DomainError as error:
        payload = {"detail": error.message, "code": error.code}
        if error.detail is not None:
            payload["errors"] = error.detail
        raise HttpError(error.status_code, payload) from error
    except DataError as error:
        logger.warning("database refused a value: %s", error)
        raise HttpError(400, {"detail": "A value is out of range.", "code": "invalid"}) from error
    except (OperationalError, InterfaceError) as error:
        logger.warning("database unavailable during ingest: %s", type(error).__name__)
        raise HttpError(503, DATABASE_UNAVAILABLE) from error
    except HttpError:
        raise
    except Exception as error:
        logger.exception("unexpected error during ingest")
        raise HttpError(
            500, {"detail": "Internal server error.", "code": "server_error"}
        ) from error
    finally:
        close_old_connections()
