"""Channels middleware for WebSockets: `?token=` -> scope["user"] and scope["roles"].

The consumer accepts and then closes with 4401/4403, so clients see the reason; the
token itself is never logged.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts.roles import roles_of

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


@database_sync_to_async
def _user_for(token: str | None) -> tuple[Any, frozenset]:
    if not token:
        return AnonymousUser(), frozenset()
    try:
        user_id = AccessToken(token)[jwt_settings.USER_ID_CLAIM]
    except (TokenError, KeyError):
        return AnonymousUser(), frozenset()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return AnonymousUser(), frozenset()
    return user, roles_of(user)


class JWTAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        user, roles = await _user_for(token)
        scope = dict(scope, user=user, roles=roles)
        await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Scripts and sensors send no Origin and are let through (the token authenticates
    them); a browser's Origin must be one of ALLOWED_HOSTS, against cross-site hijacking."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or self.validate_origin(parsed_origin)


def websocket_security(application: ASGIApp) -> ASGIApp:
    allowed = settings.ALLOWED_HOSTS
    return BrowserOriginValidator(JWTAuthMiddleware(application), allowed)
