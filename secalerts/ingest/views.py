"""POST /api/events/ through DRF (the direct ASGI path, `ingest.direct`, serves it too)."""

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from secalerts.accounts.authentication import required_identity
from secalerts.core import metrics
from secalerts.events.serializers import (
    BatchResultSerializer,
    EventCreatedSerializer,
    EventInputSerializer,
)
from secalerts.events.views import EventListView
from secalerts.ingest.endpoint import post_events

_ERROR = OpenApiResponse(
    description="JSON error: `detail`, `code`, and `errors` per field or item."
)


class EventsView(EventListView):
    """The events collection: listed by events, written to here."""

    def get_throttles(self) -> list:
        # Ingestion is bounded by batch and body size, not by request count: log shippers
        # send continuously and must not be cut off by the general per-user rate.
        return [] if self.request.method == "POST" else super().get_throttles()

    @extend_schema(
        summary="Ingest events",
        description=(
            "One event object (201: the stored event plus `alerts`), a JSON array, or an "
            "`application/x-ndjson` body of up to EVENTS_MAX_BATCH events (201: `{accepted, "
            "duplicates, alerts}`). A batch is atomic: any invalid item gives 400 with errors "
            "keyed by item index and nothing is stored. Events whose `id` is already stored "
            "with the same content count as duplicates (a retried single event answers 200 "
            "with the stored event); the same `id` with other content refuses the request "
            "with 400, code `id_conflict`, errors keyed by item index. The body may be sent "
            "with `Content-Encoding: gzip` (the size limits apply to the inflated body: 413 "
            "above). Send with an access token or an API key (`ingest` scope); events record "
            "the sender as `received_by`, and a key's `source` fills in a missing `source`."
        ),
        request={
            "application/json": PolymorphicProxySerializer(
                component_name="EventInputOrBatch",
                serializers=[EventInputSerializer, EventInputSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            ),
            "application/x-ndjson": EventInputSerializer,
        },
        responses={
            201: PolymorphicProxySerializer(
                component_name="EventIngestResult",
                serializers=[EventCreatedSerializer, BatchResultSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            200: EventCreatedSerializer,
            400: _ERROR,
            413: _ERROR,
            415: _ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        who = required_identity(request)
        with metrics.counting_refusals(metrics.HTTP):
            status, body = post_events(
                request.body,
                request.content_type,
                sender=who.sender(),
                default_source=who.source,
                content_encoding=request.headers.get("Content-Encoding"),
            )
        return Response(body, status=status)
