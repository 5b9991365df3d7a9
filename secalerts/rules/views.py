"""Rules API: both roles read, Admin writes."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.authentication import acting_actor
from secalerts.accounts.permissions import ReadAnyRoleWriteAdmin
from secalerts.rules import services
from secalerts.rules.models import Rule
from secalerts.rules.serializers import RuleSerializer


class RuleListView(APIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)

    @extend_schema(responses=RuleSerializer(many=True), summary="List rules")
    def get(self, request: Request) -> Response:
        return Response(RuleSerializer(Rule.objects.all(), many=True).data)

    @extend_schema(request=RuleSerializer, responses={201: RuleSerializer}, summary="Create a rule")
    def post(self, request: Request) -> Response:
        serializer = RuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.create_rule(actor=acting_actor(request), **serializer.validated_data)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailView(APIView):
    permission_classes = (ReadAnyRoleWriteAdmin,)

    @extend_schema(responses=RuleSerializer, summary="Get a rule")
    def get(self, request: Request, pk: int) -> Response:
        return Response(RuleSerializer(get_object_or_404(Rule, pk=pk)).data)

    @extend_schema(request=RuleSerializer, responses=RuleSerializer, summary="Change a rule")
    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(Rule, pk=pk)
        serializer = RuleSerializer(rule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rule = services.update_rule(
            rule=rule, actor=acting_actor(request), **serializer.validated_data
        )
        return Response(RuleSerializer(rule).data)

    @extend_schema(responses={204: None}, summary="Delete a rule")
    def delete(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(Rule, pk=pk)
        services.delete_rule(rule=rule, actor=acting_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
