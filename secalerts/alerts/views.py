"""Alerts API: list, detail, history and stats for both roles; triage changes for Admin."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.authentication import acting_user
from secalerts.accounts.permissions import HasAnyRole, ReadAnyRoleWriteAdmin
from secalerts.alerts import serializers as s
from secalerts.alerts import stats
from secalerts.alerts.filters import AlertFilter, AlertOrdering
from secalerts.alerts.models import Alert
from secalerts.alerts.services.triage import bulk_change_alerts, change_alert
from secalerts.core.errors import InvalidInput
from secalerts.core.pagination import KeysetPagination

_ERROR = OpenApiResponse(description="JSON error with `detail` (and `errors` per field).")


@extend_schema_view(  # the listing's only: the bulk PATCH takes no ordering
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=[
                    "created_at", "-created_at", "last_seen", "-last_seen", "severity", "-severity"
                ],
                description="Sort column (default -created_at); ties are broken by id.",
            )
        ]
    )
)  # fmt: skip
class AlertListView(generics.ListAPIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)
    serializer_class = s.AlertSerializer
    filterset_class = AlertFilter
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Alert]:
        return Alert.objects.for_listing()

    def get_ordering(self, request: Request) -> list[str]:
        return AlertOrdering().get_ordering(request, Alert.objects.none(), self)

    @extend_schema(
        operation_id="api_alerts_bulk_update",
        summary="Change the status of several alerts (all or nothing)",
        request=s.AlertBulkUpdateInputSerializer,
        responses={200: s.AlertBulkUpdateResultSerializer, 400: _ERROR, 404: _ERROR},
    )
    def patch(self, request: Request) -> Response:
        data = _valid(s.AlertBulkUpdateInputSerializer, request)
        updated = bulk_change_alerts(actor=acting_user(request), **data)
        return Response({"updated": updated})


class AlertDetailView(APIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)

    @extend_schema(responses={200: s.AlertDetailSerializer, 404: _ERROR})
    def get(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(Alert.objects.for_listing(), pk=pk)
        return Response(s.AlertDetailSerializer(alert).data)

    @extend_schema(
        request=s.AlertUpdateInputSerializer,
        responses={200: s.AlertDetailSerializer, 400: _ERROR, 404: _ERROR},
    )
    def patch(self, request: Request, pk: int) -> Response:
        alert = change_alert(
            alert_id=pk, actor=acting_user(request), **_valid(s.AlertUpdateInputSerializer, request)
        )
        return Response(s.AlertDetailSerializer(alert).data)


class AlertHistoryView(APIView):
    permission_classes = (HasAnyRole,)

    @extend_schema(responses={200: s.AlertHistorySerializer(many=True), 404: _ERROR})
    def get(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(Alert, pk=pk)
        history = alert.history.select_related("actor")
        return Response(s.AlertHistorySerializer(history, many=True).data)


class AlertStatsView(APIView):
    permission_classes = (HasAnyRole,)

    @extend_schema(
        parameters=[s.AlertStatsQuerySerializer],
        responses={200: s.AlertStatsSerializer, 400: _ERROR},
        summary="Alert counts: totals, a series by severity per bucket, top rules and IPs",
    )
    def get(self, request: Request) -> Response:
        query = s.AlertStatsQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise InvalidInput("Invalid query parameters.", detail=query.errors)
        try:
            window = stats.stats_window(
                bucket=query.validated_data["bucket"],
                since=query.validated_data.get("since"),
                until=query.validated_data.get("until"),
                now=timezone.now(),
            )
        except ValueError as error:
            raise InvalidInput("Invalid range.", detail={"since": [str(error)]}) from error
        return Response(s.AlertStatsSerializer(stats.alert_stats(window)).data)


def _valid(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
