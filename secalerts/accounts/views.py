"""Token endpoints (SimpleJWT, with login throttling) and the caller's identity."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from secalerts.accounts import api_keys
from secalerts.accounts.authentication import acting_actor, acting_user
from secalerts.accounts.models import ApiKey
from secalerts.accounts.permissions import IsAdminRole, IsPerson
from secalerts.accounts.roles import roles_of
from secalerts.accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    MeSerializer,
    TokenPairSerializer,
)
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
    serializer_class = RotatingRefreshSerializer


@extend_schema(
    responses={200: OpenApiResponse(description="Refresh token blacklisted."), 401: _ERROR},
    summary="Log out: blacklist a refresh token",
)
class TokenBlacklistView(jwt_views.TokenBlacklistView):
    pass


class MeView(APIView):
    permission_classes = (IsPerson,)

    @extend_schema(responses={200: MeSerializer, 401: _ERROR})
    def get(self, request: Request) -> Response:
        user = request.user
        roles = sorted(roles_of(user))
        body = {"id": user.pk, "username": user.get_username(), "roles": roles}
        return Response(MeSerializer(body).data)


class ApiKeyListView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(responses={200: ApiKeySerializer(many=True)}, summary="List API keys")
    def get(self, request: Request) -> Response:
        keys = ApiKey.objects.select_related("created_by")
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(
        request=ApiKeySerializer,
        responses={201: ApiKeyCreatedSerializer, 400: _ERROR},
        summary="Create an API key (its `key` is shown in this answer only)",
    )
    def post(self, request: Request) -> Response:
        fields = ApiKeySerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        key, text = api_keys.create_key(
            created_by=acting_user(request), actor=acting_actor(request), **fields.validated_data
        )
        body = {**ApiKeySerializer(key).data, "key": text}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(responses={200: ApiKeySerializer, 404: _ERROR}, summary="Read an API key")
    def get(self, request: Request, pk: int) -> Response:
        key = get_object_or_404(ApiKey.objects.select_related("created_by"), pk=pk)
        return Response(ApiKeySerializer(key).data)

    @extend_schema(responses={204: None, 404: _ERROR}, summary="Revoke an API key")
    def delete(self, request: Request, pk: int) -> Response:
        api_keys.revoke_key(key_id=pk, actor=acting_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
