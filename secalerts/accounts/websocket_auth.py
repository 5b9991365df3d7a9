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
from rest_framework.exceptions import APIException

from secalerts.accounts.authentication import ApiKeyUser
from secalerts.accounts.identity import identify_token

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


@database_sync_to_async
def _user_for(token: str | None) -> tuple[Any, frozenset]:
    try:
        who = identify_token(token)
    except APIException:
        return AnonymousUser(), frozenset()
    if who.kind == "api_key":
        return ApiKeyUser(who), who.roles  # authenticated, no role: closed 4403
    user = get_user_model().objects.filter(pk=who.user_id).first()
    if user is None:
        return AnonymousUser(), frozenset()
    return user, who.roles


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
