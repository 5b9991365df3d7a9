"""DRF's door into `identity`: bearer access tokens for every API view."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from secalerts.accounts import identity
from secalerts.accounts.roles import remember_roles


class BearerAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token>`, decided by `identity` as on every path."""

    def authenticate(self, request: Request) -> tuple[Any, identity.Identity] | None:
        token = identity.bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if token is None:
            return None  # anonymous: the view's permissions answer 401 if it needs a user
        who = identity.identify_token(token)
        user = get_user_model().objects.filter(pk=who.user_id).first()
        if user is None:  # deleted between the two queries
            raise identity.token_not_valid()
        remember_roles(user, who.roles)
        return user, who

    def authenticate_header(self, request: Request) -> str:
        return identity.CHALLENGE
