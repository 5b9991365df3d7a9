"""DRF's door into `identity`: access tokens and API keys for every API view."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from secalerts.accounts import identity
from secalerts.accounts.roles import remember_roles
from secalerts.audit.services import Actor


class ApiKeyUser(AnonymousUser):
    """`request.user` of a request made with an API key: authenticated, with no role, so
    every view that needs a person refuses it (403); ingest views allow its scope."""

    def __init__(self, who: identity.Identity) -> None:
        # AnonymousUser's id and pk are None and its username "" (so typed); a key's user
        # names the key instead.
        self.id = self.pk = f"api-key:{who.key_id}"  # type: ignore[assignment]
        self.username = f"api-key:{who.name}"  # type: ignore[assignment]
        remember_roles(self, frozenset())

    # AnonymousUser declares these as Literal[True]/Literal[False]; a key's user is the
    # one anonymous user that is authenticated.
    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class BearerAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token or key>` or `X-API-Key: <key>`, decided by
    `identity` as on every path."""

    def authenticate(self, request: Request) -> tuple[User | ApiKeyUser, identity.Identity] | None:
        found = identity.credential(
            request.META.get("HTTP_AUTHORIZATION"), request.META.get("HTTP_X_API_KEY")
        )
        if found is None:
            return None  # anonymous: the view's permissions answer 401 if it needs a user
        who = identity.identify_token(found)
        if who.kind == "api_key":
            return ApiKeyUser(who), who
        users = get_user_model().objects
        user = users.filter(pk=who.user_id).first() if who.user_id is not None else None
        if user is None:  # deleted between the two queries
            raise identity.token_not_valid()
        remember_roles(user, who.roles)
        return user, who

    def authenticate_header(self, request: Request) -> str:
        return identity.CHALLENGE


def identity_of(request: Request) -> identity.Identity | None:
    """Who `BearerAuthentication` found behind the request; None when anonymous."""
    who = request.auth
    return who if isinstance(who, identity.Identity) else None


def required_identity(request: Request) -> identity.Identity:
    """The identity of a request whose permissions already required one."""
    who = identity_of(request)
    if who is None:
        raise NotAuthenticated()
    return who


def acting_user(request: Request) -> User:
    """The person behind a request whose permissions already required one (an API key's
    user never passes them): what services record as the actor."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def acting_actor(request: Request) -> Actor:
    """Who the audit trail names for a change made by this request."""
    who = identity_of(request)
    if who is None:
        raise NotAuthenticated()
    if who.kind == "api_key":
        return Actor(kind="api_key", name=f"{who.name} (key {who.key_id})")
    return Actor(kind="user", name=who.name, user_id=who.user_id)
