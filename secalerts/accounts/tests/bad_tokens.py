"""Access tokens that must be refused: each kind of forgery or misuse, for HTTP and WebSocket."""

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import jwt
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def _tampered(user) -> str:
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(int(claims["user_id"]) + 1)
    return f"{header}.{b64(claims)}.{signature}"


def _alg_none(user) -> str:
    _, payload, _ = str(AccessToken.for_user(user)).split(".")
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."


def _refresh_as_access(user) -> str:
    return str(RefreshToken.for_user(user))


def _wrong_key(user) -> str:
    token = AccessToken.for_user(user)
    return jwt.encode(dict(token.payload), "another-secret-key-another-secret-key!!", "HS256")


def _not_yet_valid(user) -> str:
    token = AccessToken.for_user(user)
    claims = dict(token.payload)
    claims["nbf"] = claims["iat"] + 3600
    return jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")


BAD_TOKENS: dict[str, Callable[..., str]] = {
    "expired": _expired,
    "tampered": _tampered,
    "alg-none": _alg_none,
    "refresh-as-access": _refresh_as_access,
    "wrong-key": _wrong_key,
    "not-yet-valid": _not_yet_valid,
}
