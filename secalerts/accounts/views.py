"""Token endpoints (SimpleJWT, with login throttling) and the caller's identity."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from secalerts.accounts.roles import roles_of
from secalerts.accounts.serializers import MeSerializer, TokenPairSerializer
from secalerts.accounts.throttling import client_ip, login_attempt
from secalerts.accounts.tokens import RotatingRefreshSerializer

_ERROR = OpenApiResponse(description="Error with a `detail` message.")


@extend_schema(
    responses={200: TokenPairSerializer, 400: _ERROR, 401: _ERROR, 429: _ERROR},
    summary="Obtain an access and refresh token pair",
)
class TokenObtainView(jwt_views.TokenObtainPairView):
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        with login_attempt(
            ip=client_ip(request), username=str(username or ""), failure=AuthenticationFailed
        ):
            return super().post(request, *args, **kwargs)


@extend_schema(
    responses={200: TokenPairSerializer, 400: _ERROR, 401: _ERROR},
    summary="Rotate a refresh token (the used one is blacklisted)",
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    serializer_class = RotatingRefreshSerializer  # type: ignore[assignment]


@extend_schema(
    responses={200: OpenApiResponse(description="Refresh token blacklisted."), 401: _ERROR},
    summary="Log out: blacklist a refresh token",
)
class TokenBlacklistView(jwt_views.TokenBlacklistView):
    pass


class MeView(APIView):
    permission_classes = (permissions.IsAuthenticated,)

    @extend_schema(responses={200: MeSerializer, 401: _ERROR})
    def get(self, request: Request) -> Response:
        user = request.user
        roles = sorted(roles_of(user))
        body = {"id": user.pk, "username": user.get_username(), "roles": roles}
        return Response(MeSerializer(body).data)
