"""POST /api/intake/syslog/ and /api/intake/ecs/: three lines each (service does the work)."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.authentication import required_identity
from secalerts.accounts.permissions import CanIngest
from secalerts.core import metrics
from secalerts.core.errors import DomainError
from secalerts.intake import service

_ERROR = OpenApiResponse(description="JSON error: `detail`, `code`, and `errors` per item.")


class IntakeResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(help_text="Records already stored (a retry).")
    unparsed = serializers.IntegerField(help_text="Records stored as `log.line` events.")
    alerts = serializers.ListField(child=serializers.IntegerField())


_RESPONSES = {201: IntakeResultSerializer, 400: _ERROR, 413: _ERROR, 415: _ERROR}


class _IntakeView(APIView):
    permission_classes = (CanIngest,)
    throttle_classes = ()  # bounded by batch and body size, as POST /api/events/ is

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DomainError):  # a refused body, not refused credentials
            metrics.count_events(metrics.INTAKE, rejected=metrics.refused_events(exc))
        return super().handle_exception(exc)

    def take(self, request: Request, events: list[dict[str, Any]], body: bytes) -> Response:
        who = required_identity(request)
        answer = service.take(events, body=body, sender=who.sender(), default_source=who.source)
        return Response(answer, status=201)


class SyslogIntakeView(_IntakeView):
    @extend_schema(
        summary="Ingest syslog lines",
        description=(
            "`text/plain`: one log line a line (RFC 5424, RFC 3164 or a /var/log line). "
            "`application/x-ndjson` or a JSON array: records whose `message` holds such a "
            "line (Vector, Fluent Bit, rsyslog omhttp); their `host`/`hostname` and "
            "`timestamp`/`@timestamp`/`date` fill in what the line lacks. Lines no parser "
            "knows are stored as `log.line` events (counted in `unparsed`). Atomic, "
            "idempotent on retry of the same body, gzip accepted."
        ),
        request={"text/plain": str, "application/x-ndjson": dict},
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        plain, events = service.syslog_events(
            request.body,
            request.content_type,
            request.headers.get("Content-Encoding"),
            default_host=required_identity(request).source,
        )
        return self.take(request, events, plain)


class EcsIntakeView(_IntakeView):
    @extend_schema(
        summary="Ingest Elastic Common Schema documents",
        description=(
            "Filebeat, Elastic Agent and Logstash (`ecs_compatibility`) documents, as a JSON "
            "array or NDJSON. `@timestamp`, `event.action`/`event.category`, `host.name`, "
            "`source.ip`, `destination.ip`/`.port`, `user.name`, `message` and "
            "`event.severity`/`log.level` map onto the event; every other field is kept in "
            "`data` under its own name. Atomic, idempotent on retry, gzip accepted."
        ),
        request={"application/json": dict, "application/x-ndjson": dict},
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        plain, events = service.ecs_events(
            request.body, request.content_type, request.headers.get("Content-Encoding")
        )
        return self.take(request, events, plain)
