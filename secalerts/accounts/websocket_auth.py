"""WebSocket credentials: `stream_identity(token)`, the one check of a stream's token and
user, and the Channels middleware that applies it to `?token=`.

The consumer accepts and then closes with 4401/4403, so clients see the reason; the
token itself is never logged.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts.roles import Role, roles_of

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a stream token stands for. `roles` is empty for a user without a role (4403)."""

    user: AbstractBaseUser
    roles: frozenset[Role]
    expires_at: datetime  # the token's `exp`, aware (UTC)


def stream_identity(token: str | None) -> Identity | None:
    """The one check of a stream's credentials, at connect, on `{"type": "auth"}` and at
    every periodic re-check: None for a missing, malformed, forged, expired or non-access
    token, and for a user who is gone or inactive (all close with 4401).

    Synchronous (it reads the database): call it through `database_sync_to_async`.
    """
    if not token:
        return None
    try:
        access = AccessToken(token)
        user_id = access[jwt_settings.USER_ID_CLAIM]
        expires_at = datetime.fromtimestamp(access["exp"], UTC)
    except (TokenError, KeyError, TypeError, ValueError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return Identity(user=user, roles=roles_of(user), expires_at=expires_at)


class JWTAuthMiddleware(BaseMiddleware):
    """Sets scope["user"] and scope["roles"], and scope["stream_token"] and
    scope["stream_identity"] (None when refused) for the consumer's later re-checks."""

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        identity = await database_sync_to_async(stream_identity)(token)
        scope = dict(
            scope,
            user=identity.user if identity else AnonymousUser(),
            roles=identity.roles if identity else frozenset(),
            stream_token=token,
            stream_identity=identity,
        )
        await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Scripts and sensors send no Origin and are let through (the token authenticates
    them); a browser's Origin must be one of ALLOWED_HOSTS, against cross-site hijacking."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or self.validate_origin(parsed_origin)


def websocket_security(application: ASGIApp) -> ASGIApp:
    allowed = settings.ALLOWED_HOSTS
    return BrowserOriginValidator(JWTAuthMiddleware(application), allowed)
