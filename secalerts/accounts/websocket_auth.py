"""WebSocket credentials: `stream_identity(token)`, the one check of a stream's token and
user, and the Channels middleware that applies it to `?token=`.

The consumer accepts and then closes with 4401/4403, so clients see the reason; the
token itself is never logged.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from rest_framework.exceptions import APIException

from secalerts.accounts.identity import Identity, identify_token

# An ASGI application as this middleware calls it: the scope it passes on is Channels'
# websocket scope plus the keys below, which no scope TypedDict describes.
ASGIApp = Callable[[Any, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]


def stream_identity(token: str | None) -> Identity | None:
    """The one check of a stream's credentials, at connect, on `{"type": "auth"}` and at
    every periodic re-check, made by the front door (`accounts.identity`) as for HTTP:
    None when it refuses them (4401). An API key is an identity without roles (4403).

    Synchronous (it reads the database): call it through `database_sync_to_async`.
    """
    try:
        return identify_token(token)
    except APIException:
        return None


class JWTAuthMiddleware:
    """Sets scope["stream_identity"] (None when refused), scope["roles"], and
    scope["stream_token"] for the consumer's later re-checks, on a copy of the scope
    (as Channels' BaseMiddleware does, so nothing leaks upstream)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(
        self, scope: Mapping[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        identity = await database_sync_to_async(stream_identity)(token)
        inner_scope = dict(
            scope,
            roles=identity.roles if identity else frozenset(),
            stream_token=token,
            stream_identity=identity,
        )
        await self.inner(inner_scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Scripts and sensors send no Origin and are let through (the token authenticates
    them); a browser's Origin must be one of ALLOWED_HOSTS, against cross-site hijacking."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or self.validate_origin(parsed_origin)


def websocket_security(application: ASGIApp) -> OriginValidator:
    allowed = settings.ALLOWED_HOSTS
    return BrowserOriginValidator(JWTAuthMiddleware(application), allowed)
