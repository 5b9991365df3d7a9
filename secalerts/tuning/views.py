"""Rule test (both roles), backtest and suppressions (Admin writes), audit (Admin)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.authentication import acting_actor
from secalerts.accounts.permissions import HasAnyRole, IsAdminRole, ReadAnyRoleWriteAdmin
from secalerts.core.errors import InvalidInput
from secalerts.rules.models import Rule
from secalerts.tuning import ruletest, suppressions
from secalerts.tuning import serializers as s
from secalerts.tuning.models import Suppression

_ERROR = OpenApiResponse(description="JSON error with `detail` (and `errors` per field).")


class RuleTestView(APIView):
    permission_classes = (HasAnyRole,)

    @extend_schema(
        request=s.RuleTestSerializer,
        responses={200: s.RuleTestResultSerializer, 400: _ERROR},
        summary="Test a rule on events (nothing is stored)",
    )
    def post(self, request: Request) -> Response:
        body = s.RuleTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        raw_rule = body.validated_data["rule"]
        if isinstance(raw_rule, str):
            raw_rule = ruletest.rule_from_text(raw_rule)
        if not isinstance(raw_rule, dict):
            raise InvalidInput(
                "Invalid rule.", detail={"rule": ["Must be a rule object or Sigma YAML text."]}
            )
        definition = s.RuleDefinitionSerializer(data=raw_rule)
        if not definition.is_valid():
            raise InvalidInput("Invalid rule.", detail={"rule": definition.errors})
        rule = ruletest.active_rule(definition.validated_data, rule_id=ruletest.TEST_RULE_ID)
        result = ruletest.test_rule(
            rule=rule, raw_events=body.validated_data["events"], now=timezone.now()
        )
        return Response(result)


class BacktestView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(
        request=s.BacktestSerializer,
        responses={200: s.BacktestResultSerializer, 400: _ERROR, 404: _ERROR},
        summary="Run a stored rule over stored events (nothing is stored or pushed)",
    )
    def post(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(Rule, pk=pk)
        body = s.BacktestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = ruletest.backtest(rule=rule, now=timezone.now(), **body.validated_data)
        return Response(result)


class SuppressionListView(APIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)

    @extend_schema(responses=s.SuppressionSerializer(many=True), summary="List suppressions")
    def get(self, request: Request) -> Response:
        rows = Suppression.objects.all()
        return Response(s.SuppressionSerializer(rows, many=True).data)

    @extend_schema(
        request=s.SuppressionSerializer,
        responses={201: s.SuppressionSerializer, 400: _ERROR},
        summary="Create a suppression",
    )
    def post(self, request: Request) -> Response:
        body = s.SuppressionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = suppressions.create_suppression(
            actor=acting_actor(request), now=timezone.now(), **body.validated_data
        )
        return Response(s.SuppressionSerializer(created).data, status=status.HTTP_201_CREATED)


class SuppressionDetailView(APIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)

    @extend_schema(responses={200: s.SuppressionSerializer, 404: _ERROR})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.SuppressionSerializer(get_object_or_404(Suppression, pk=pk)).data)

    @extend_schema(
        request=s.SuppressionSerializer,
        responses={200: s.SuppressionSerializer, 400: _ERROR, 404: _ERROR},
    )
    def patch(self, request: Request, pk: int) -> Response:
        suppression = get_object_or_404(Suppression, pk=pk)
        body = s.SuppressionSerializer(suppression, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changed = suppressions.update_suppression(
            suppression=suppression,
            actor=acting_actor(request),
            now=timezone.now(),
            **body.validated_data,
        )
        return Response(s.SuppressionSerializer(changed).data)

    @extend_schema(responses={204: None, 404: _ERROR})
    def delete(self, request: Request, pk: int) -> Response:
        suppression = get_object_or_404(Suppression, pk=pk)
        suppressions.delete_suppression(suppression=suppression, actor=acting_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
