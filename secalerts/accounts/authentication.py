"""DRF's door into `identity`: access tokens and API keys for every API view."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from secalerts.accounts import identity
from secalerts.accounts.roles import remember_roles


class ApiKeyUser(AnonymousUser):
    """`request.user` of a request made with an API key: authenticated, with no role, so
    every view that needs a person refuses it (403); ingest views allow its scope."""

    def __init__(self, who: identity.Identity) -> None:
        self.id = self.pk = f"api-key:{who.key_id}"  # type: ignore[assignment]
        self.username = f"api-key:{who.name}"
        remember_roles(self, frozenset())  # type: ignore[arg-type]

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class BearerAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token or key>` or `X-API-Key: <key>`, decided by
    `identity` as on every path."""

    def authenticate(self, request: Request) -> tuple[Any, identity.Identity] | None:
        found = identity.credential(
            request.META.get("HTTP_AUTHORIZATION"), request.META.get("HTTP_X_API_KEY")
        )
        if found is None:
            return None  # anonymous: the view's permissions answer 401 if it needs a user
        who = identity.identify_token(found)
        if who.kind == "api_key":
            return ApiKeyUser(who), who
        user = get_user_model().objects.filter(pk=who.user_id).first()
        if user is None:  # deleted between the two queries
            raise identity.token_not_valid()
        remember_roles(user, who.roles)
        return user, who

    def authenticate_header(self, request: Request) -> str:
        return identity.CHALLENGE
