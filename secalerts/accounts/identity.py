"""Who is this request: the one place that turns a credential into an identity.

Every entry point asks here and nowhere else: DRF views (`authentication`), the direct
ingest path (many requests at once, one query), and the WebSocket stream (at connect,
on `{"type": "auth"}` and when it re-checks). So one bad credential gets one answer,
raised as DRF's own exceptions and rendered by `core.api.error_answer` everywhere.

Two kinds of credential: access tokens (people, and scripts acting for them) and API
keys (`sak_...`, sensors and shippers), in `X-API-Key` or as a bearer value.

A token stands for its user only while the user exists, is active and has the password
the token was issued under: SimpleJWT's revocation claim (`CHECK_REVOKE_TOKEN`) carries
a hash of the password hash, compared here on every use, so a password change revokes
every access and refresh token at once. Keys are looked up on every use too, so a
revoked or expired key is refused by every worker from the next request.
"""

import functools
import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import APIException, AuthenticationFailed, NotAuthenticated
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from secalerts.accounts import api_keys
from secalerts.accounts.models import ApiKey
from secalerts.accounts.roles import Role, roles_from_groups
from secalerts.core.columns import column_of
from secalerts.core.errors import CHALLENGE

__all__ = ["CHALLENGE", "Identity", "credential", "identify_all", "identify_token"]

SCHEME = "Bearer"
KEY_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Identity:
    kind: str  # "user" (an access token) or "api_key"
    name: str  # the username, or the key's name
    roles: frozenset[Role]  # a key has none: it may only do what its scopes allow
    expires_at: float | None  # epoch seconds: when the credential stops being valid
    user_id: int | None = None
    key_id: int | None = None
    scopes: frozenset[str] = frozenset()
    source: str = ""  # a key's default `source` for events that omit it

    def sender(self) -> dict[str, str]:
        """What events sent with this credential record as `received_by`."""
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says: whose it is, until when, under which password."""

    user_id: int
    expires_at: float
    password_hash: str


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    is_active: bool
    password: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: int
    name: str
    secret_hash: str
    scopes: frozenset[str]
    source: str
    expires_at: datetime | None
    revoked: bool
    last_used_at: datetime | None


def token_not_valid() -> AuthenticationFailed:
    return AuthenticationFailed("Token is invalid or expired.", "token_not_valid")


def key_not_valid() -> AuthenticationFailed:
    # One answer whatever is wrong with a key: unknown, wrong secret, expired or revoked.
    return AuthenticationFailed("API key is invalid, expired or revoked.", "api_key_not_valid")


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


def credential(authorization: str | bytes | None, api_key: str | bytes | None = None) -> str | None:
    """The credential a request presents: an `X-API-Key` header, else a bearer token
    (an access token or an API key). None: anonymous."""
    if api_key:
        value = api_key.decode("latin-1") if isinstance(api_key, bytes) else api_key
        value = value.strip()
        if not value.isascii() or not api_keys.is_api_key(value):
            raise key_not_valid()
        return value
    return bearer_token(authorization)


def identify_token(raw: str | None) -> Identity:
    """The identity behind one credential (the WebSocket's `?token=`, a bearer value)."""
    if not raw:
        raise NotAuthenticated()
    answer = identify_all_credentials([raw])[0]
    if isinstance(answer, APIException):
        raise answer
    return answer


def identify_all(
    headers: Sequence[tuple[str | bytes | None, str | bytes | None]],
) -> list[Identity | APIException]:
    """`identify` for many requests' (Authorization, X-API-Key) headers at once."""
    found: list[str | APIException | None] = []
    for authorization, api_key in headers:
        try:
            found.append(credential(authorization, api_key))
        except APIException as error:
            found.append(error)
    return identify_all_credentials(found)


def identify_all_credentials(
    credentials: Sequence[str | APIException | None],
) -> list[Identity | APIException]:
    """The identities behind many credentials, with one query for all their users and
    one for all their keys."""
    read: list[Claims | api_keys.PresentedKey | APIException] = []
    for found in credentials:
        if found is None:
            read.append(NotAuthenticated())
        elif isinstance(found, APIException):
            read.append(found)
        elif api_keys.is_api_key(found):
            presented = api_keys.read_key(found)
            read.append(presented if presented is not None else key_not_valid())
        else:
            try:
                read.append(token_claims(found))
            except APIException as error:
                read.append(error)
    accounts = accounts_of({r.user_id for r in read if isinstance(r, Claims)})
    keys = keys_of({r.prefix for r in read if isinstance(r, api_keys.PresentedKey)})
    answers: list[Identity | APIException] = []
    for item in read:
        try:
            if isinstance(item, Claims):
                answers.append(decide(item, accounts.get(item.user_id)))
            elif isinstance(item, api_keys.PresentedKey):
                answers.append(decide_key(item, keys.get(item.prefix)))
            else:
                answers.append(item)
        except APIException as error:
            answers.append(error)
    touch_keys([a for a in answers if isinstance(a, Identity)], keys)
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
    # SimpleJWT annotates the argument as a Token; it is the encoded token it decodes.
    token = AccessToken(raw)  # type: ignore[arg-type]
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
    return Identity(
        kind="user",
        name=account.username,
        roles=account.roles,
        expires_at=claims.expires_at,
        user_id=claims.user_id,
    )


def decide_key(presented: api_keys.PresentedKey, key: KeyRecord | None) -> Identity:
    """Whether a presented key is one of ours, unexpired and not revoked."""
    if key is None or key.revoked:
        raise key_not_valid()
    if not constant_time_compare(api_keys.secret_hash(presented.secret), key.secret_hash):
        raise key_not_valid()
    expires_at = key.expires_at.timestamp() if key.expires_at is not None else None
    if expires_at is not None and time.time() >= expires_at:
        raise key_not_valid()
    return Identity(
        kind="api_key",
        name=key.name,
        roles=frozenset(),
        expires_at=expires_at,
        key_id=key.id,
        scopes=key.scopes,
        source=key.source,
    )


def keys_of(prefixes: Collection[str]) -> dict[str, KeyRecord]:
    """The keys with these prefixes, in one query.

    Plain SQL, as `accounts_of`: the ORM's query building took seven times as long as
    checking an access token, on every ingest request sent with a key.
    """
    if not prefixes:
        return {}
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, prefix, name, secret_hash, scopes, source, expires_at, revoked_at, "  # noqa: S608 - names are ours
            f"last_used_at FROM {q(ApiKey._meta.db_table)} "
            f"WHERE prefix IN ({', '.join(['%s'] * len(prefixes))})",
            list(prefixes),
        )
        rows = cursor.fetchall()
    return {
        prefix: KeyRecord(
            id=pk,
            name=name,
            secret_hash=hashed,
            scopes=frozenset(json.loads(scopes) if isinstance(scopes, str) else scopes or ()),
            source=source,
            expires_at=_aware(expires_at),
            revoked=revoked_at is not None,
            last_used_at=_aware(last_used_at),
        )
        for pk, prefix, name, hashed, scopes, source, expires_at, revoked_at, last_used_at in rows
    }


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime column as a raw query returns it: SQLite gives naive UTC (or text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def touch_keys(identities: Sequence[Identity], keys: dict[str, KeyRecord]) -> None:
    """Keep `last_used_at`, at most one write a minute per key."""
    used = {who.key_id for who in identities if who.kind == "api_key"}
    if not used:
        return
    now = timezone.now()
    stale = [
        key.id
        for key in keys.values()
        if key.id in used
        and (key.last_used_at is None or now - key.last_used_at >= KEY_USE_RESOLUTION)
    ]
    if stale:
        ApiKey.objects.filter(pk__in=stale).update(last_used_at=now)


def accounts_of(user_ids: Collection[int]) -> dict[int, Account]:
    """Active flag, password hash and roles of each existing user, in one query.

    Plain SQL: the ingest path asks this for every group of requests, and building
    the ORM's query cost more than running it.
    """
    if not user_ids:
        return {}
    q = connection.ops.quote_name
    user_model = get_user_model()
    users, member = user_model._meta, user_model.groups.through._meta
    user_id = f"u.{q(column_of(users.pk))}"
    member_user, member_group = (q(column_of(member.get_field(name))) for name in ("user", "group"))
    with connection.cursor() as cursor:
        username = q(column_of(users.get_field("username")))
        cursor.execute(
            f"SELECT {user_id}, u.{username}, u.is_active, u.is_superuser, u.password, g.name "  # noqa: S608 - names are ours
            f"FROM {q(users.db_table)} u "
            f"LEFT JOIN {q(member.db_table)} m ON m.{member_user} = {user_id} "
            f"LEFT JOIN {q(Group._meta.db_table)} g ON g.id = m.{member_group} "
            f"WHERE {user_id} IN ({', '.join(['%s'] * len(user_ids))})",
            list(user_ids),
        )
        rows = cursor.fetchall()
    groups: dict[int, list[str]] = {}
    found: dict[int, tuple[str, bool, bool, str]] = {}
    for pk, username, is_active, superuser, password, name in rows:
        found[pk] = (username, bool(is_active), bool(superuser), password)
        groups.setdefault(pk, []).append(name)
    return {
        pk: Account(
            username=username,
            is_active=is_active,
            password=password,
            roles=roles_from_groups(groups[pk], superuser=superuser) if is_active else frozenset(),
        )
        for pk, (username, is_active, superuser, password) in found.items()
    }
