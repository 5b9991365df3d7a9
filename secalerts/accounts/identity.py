"""Who is this request: the one place that turns a credential into an identity.

Every entry point asks here and nowhere else: DRF views (`authentication`), the direct
ingest path (many requests at once, one query), and the WebSocket stream (at connect,
on `{"type": "auth"}` and when it re-checks). So one bad credential gets one answer,
raised as DRF's own exceptions and rendered by `core.api.error_answer` everywhere.

A token stands for its user only while the user exists, is active and has the password
the token was issued under: SimpleJWT's revocation claim (`CHECK_REVOKE_TOKEN`) carries
a hash of the password hash, compared here on every use, so a password change revokes
every access and refresh token at once.
"""

import functools
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.exceptions import APIException, AuthenticationFailed, NotAuthenticated
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from secalerts.accounts.roles import Role, roles_from_groups
from secalerts.core.errors import CHALLENGE

SCHEME = "Bearer"


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    roles: frozenset[Role]
    expires_at: float  # epoch seconds: when the credential stops being valid


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says: whose it is, until when, under which password."""

    user_id: int
    expires_at: float
    password_hash: str


@dataclass(frozen=True, slots=True)
class Account:
    is_active: bool
    password: str
    roles: frozenset[Role]


__all__ = ["CHALLENGE", "Identity", "identify", "identify_all", "identify_token"]


def token_not_valid() -> AuthenticationFailed:
    return AuthenticationFailed("Token is invalid or expired.", "token_not_valid")


def bearer_token(authorization: str | bytes | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header.

    None when the request carries no bearer credential at all (no header, another
    scheme): the caller then treats it as anonymous. A bearer header that is not
    exactly two values is refused.
    """
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    parts = (authorization or "").split()
    if not parts or parts[0] != SCHEME:
        return None
    if len(parts) != 2 or not parts[1].isascii():
        raise AuthenticationFailed(
            "The Authorization header must be `Bearer <token>`.", "bad_authorization_header"
        )
    return parts[1]


def identify(authorization: str | bytes | None) -> Identity:
    """The identity of one request's `Authorization` header; raises 401 exceptions."""
    token = bearer_token(authorization)
    if token is None:
        raise NotAuthenticated()
    return identify_token(token)


def identify_token(raw: str | None) -> Identity:
    """The identity behind one access token (the WebSocket's `?token=`, a bearer header)."""
    if not raw:
        raise NotAuthenticated()
    claims = token_claims(raw)
    return decide(claims, accounts_of([claims.user_id]).get(claims.user_id))


def identify_all(authorizations: Sequence[str | bytes | None]) -> list[Identity | APIException]:
    """`identify` for many requests at once, with one query for all their users."""
    results: list[Identity | APIException | Claims] = []
    for authorization in authorizations:
        try:
            token = bearer_token(authorization)
            results.append(token_claims(token) if token else NotAuthenticated())
        except APIException as error:
            results.append(error)
    accounts = accounts_of({r.user_id for r in results if isinstance(r, Claims)})
    answers: list[Identity | APIException] = []
    for result in results:
        if isinstance(result, Claims):
            try:
                answers.append(decide(result, accounts.get(result.user_id)))
            except APIException as error:
                answers.append(error)
        else:
            answers.append(result)
    return answers


def token_claims(raw: str) -> Claims:
    """The claims of a valid access token; raises AuthenticationFailed (401)."""
    try:
        claims = _verified_claims(raw)
    except (TokenError, TypeError, ValueError, OverflowError, KeyError) as error:
        # Odd claims in a correctly signed token (exp as text, user_id a list) are
        # refused like any other bad token, never a crash.
        raise token_not_valid() from error
    if time.time() >= claims.expires_at:
        raise token_not_valid()
    return claims


@functools.lru_cache(maxsize=1024)
def _verified_claims(raw: str) -> Claims:
    """Signature, type and claims checked once per token: a shipper sends the same token
    with every request until it expires. Only tokens that pass are remembered (an
    exception is not cached); the caller checks the expiry on every use."""
    token = AccessToken(raw)
    return claims_of(token)


def claims_of(token: Token) -> Claims:
    """The claims every token of ours must carry, with the types they must have."""
    user_id = token[jwt_settings.USER_ID_CLAIM]
    expires = token["exp"]
    password_hash = token.get(jwt_settings.REVOKE_TOKEN_CLAIM)
    if isinstance(user_id, str) and user_id.isdigit():
        user_id = int(user_id)
    if not _is_int(user_id) or not _is_int(expires) or not isinstance(password_hash, str):
        raise ValueError("token claims of the wrong type")
    leeway = token.get_token_backend().get_leeway().total_seconds()
    return Claims(user_id=user_id, expires_at=expires + leeway, password_hash=password_hash)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decide(claims: Claims, account: Account | None) -> Identity:
    """Whether the account behind valid claims may still use them."""
    if account is None:
        raise AuthenticationFailed("User not found.", "user_not_found")
    if not account.is_active:
        raise AuthenticationFailed("User is inactive.", "user_inactive")
    if claims.password_hash != get_md5_hash_password(account.password):
        raise AuthenticationFailed("The user's password has changed.", "password_changed")
    return Identity(user_id=claims.user_id, roles=account.roles, expires_at=claims.expires_at)


def accounts_of(user_ids: Collection[int]) -> dict[int, Account]:
    """Active flag, password hash and roles of each existing user, in one query.

    Plain SQL: the ingest path asks this for every group of requests, and building
    the ORM's query cost more than running it.
    """
    if not user_ids:
        return {}
    q = connection.ops.quote_name
    users = get_user_model()._meta
    member = users.get_field("groups").remote_field.through._meta
    user_id = f"u.{q(users.pk.column)}"
    member_user, member_group = (q(member.get_field(name).column) for name in ("user", "group"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {user_id}, u.is_active, u.is_superuser, u.password, g.name "  # noqa: S608 - names are ours
            f"FROM {q(users.db_table)} u "
            f"LEFT JOIN {q(member.db_table)} m ON m.{member_user} = {user_id} "
            f"LEFT JOIN {q(Group._meta.db_table)} g ON g.id = m.{member_group} "
            f"WHERE {user_id} IN ({', '.join(['%s'] * len(user_ids))})",
            list(user_ids),
        )
        rows = cursor.fetchall()
    groups: dict[int, list[str]] = {}
    found: dict[int, tuple[bool, bool, str]] = {}
    for pk, is_active, superuser, password, name in rows:
        found[pk] = (bool(is_active), bool(superuser), password)
        groups.setdefault(pk, []).append(name)
    return {
        pk: Account(
            is_active=is_active,
            password=password,
            roles=roles_from_groups(groups[pk], superuser=superuser) if is_active else frozenset(),
        )
        for pk, (is_active, superuser, password) in found.items()
    }
