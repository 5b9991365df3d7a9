"""Refresh-token rotation whose chain ends a fixed time after the login that started it."""

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from secalerts.accounts import identity


class RotatingRefreshSerializer(serializers.Serializer):
    """SimpleJWT's refresh with three differences: the rotated token keeps the old one's
    `exp` (so a stolen refresh token dies `JWT_REFRESH_DAYS` after the login, however
    often it is rotated), the account is checked by `identity` (deleted, inactive and
    password-changed users are refused with 401), and odd claims are a 401, not a crash.
    """

    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = RefreshToken(attrs["refresh"])  # also refuses blacklisted tokens
            claims = identity.claims_of(refresh)
        except (TokenError, TypeError, ValueError, OverflowError, KeyError) as error:
            raise identity.token_not_valid() from error
        identity.decide(claims, identity.accounts_of([claims.user_id]).get(claims.user_id))
        access = refresh.access_token
        access["exp"] = min(access["exp"], refresh["exp"])
        refresh.blacklist()
        refresh.set_jti()
        refresh.set_iat()
        refresh.outstand()
        return {"access": str(access), "refresh": str(refresh)}
