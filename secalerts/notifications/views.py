"""Notifications API: Admin only (channels hold secrets and reach other systems)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.permissions import IsAdminRole
from secalerts.core.columns import BIGINT_MAX
from secalerts.core.errors import InvalidInput
from secalerts.core.pagination import CheckedCursorPagination
from secalerts.notifications import services
from secalerts.notifications.models import Channel, Delivery, DeliveryStatus
from secalerts.notifications.serializers import ChannelSerializer, DeliverySerializer


class ChannelListView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(responses=ChannelSerializer(many=True), summary="List notification channels")
    def get(self, request: Request) -> Response:
        return Response(ChannelSerializer(Channel.objects.all(), many=True).data)

    @extend_schema(
        request=ChannelSerializer, responses={201: ChannelSerializer}, summary="Create a channel"
    )
    def post(self, request: Request) -> Response:
        serializer = ChannelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel = services.create_channel(**serializer.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(responses=ChannelSerializer, summary="Get a channel")
    def get(self, request: Request, pk: int) -> Response:
        return Response(ChannelSerializer(get_object_or_404(Channel, pk=pk)).data)

    @extend_schema(
        request=ChannelSerializer, responses=ChannelSerializer, summary="Change a channel"
    )
    def patch(self, request: Request, pk: int) -> Response:
        channel = get_object_or_404(Channel, pk=pk)
        serializer = ChannelSerializer(channel, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        channel = services.update_channel(channel=channel, **serializer.validated_data)
        return Response(ChannelSerializer(channel).data)

    @extend_schema(responses={204: None}, summary="Delete a channel and its delivery log")
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_channel(channel=get_object_or_404(Channel, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelTestView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(
        request=None,
        responses=DeliverySerializer,
        summary="Send a test message now; the answer is its delivery (sent or failed)",
    )
    def post(self, request: Request, pk: int) -> Response:
        delivery = services.send_test(channel=get_object_or_404(Channel, pk=pk))
        delivery = Delivery.objects.prefetch_related("attempt_log").get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data)


class DeliveryPagination(CheckedCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(
    parameters=[
        OpenApiParameter("channel", OpenApiTypes.INT),
        OpenApiParameter("alert", OpenApiTypes.INT),
        OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryStatus.values),
    ],
    summary="The delivery log, newest first: each delivery with its attempts",
)
class DeliveryListView(generics.ListAPIView):
    permission_classes = (IsAdminRole,)
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPagination

    def get_queryset(self) -> QuerySet[Delivery]:
        deliveries = Delivery.objects.prefetch_related("attempt_log")
        params = self.request.query_params
        for name in ("channel", "alert"):
            if (value := params.get(name)) is not None:
                if not (value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX):
                    raise InvalidInput(f"{name} must be an id.")
                deliveries = deliveries.filter(**{f"{name}_id": int(value)})
        if (value := params.get("status")) is not None:
            if value not in DeliveryStatus.values:
                raise InvalidInput(f"status must be one of {DeliveryStatus.values}.")
            deliveries = deliveries.filter(status=value)
        return deliveries
