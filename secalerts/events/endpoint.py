"""POST /api/events/ as one plain function, shared by the DRF view and the direct ASGI path."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from secalerts.events.models import Event
from secalerts.events.serializers import EventSerializer, event_payload
from secalerts.events.services import ingest_events
from secalerts.events.validation import validate_events


def post_events(body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    """Returns (status, JSON body). Raises DomainError subclasses for 4xx answers."""
    events, is_batch = validate_events(
        body,
        content_type,
        max_batch=settings.EVENTS_MAX_BATCH,
        max_bytes=settings.EVENTS_MAX_BODY_BYTES,
        now=timezone.now(),
    )
    result = ingest_events(events=events)
    alerts = list(result.alert_ids)
    if is_batch:
        return 201, {"accepted": result.accepted, "duplicates": result.duplicates, "alerts": alerts}
    event = events[0]
    if result.duplicates:
        # A retried single event: answer with what is stored, as an idempotent PUT would.
        stored = EventSerializer(Event.objects.get(pk=event["id"])).data
        return 200, {**stored, "alerts": alerts}
    return 201, {**event_payload(event, result.received_at), "alerts": alerts}
