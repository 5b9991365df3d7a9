"""POST /api/events/ as plain functions, shared by the DRF view and the direct ASGI path."""

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from secalerts.accounts.identity import Identity
from secalerts.core import metrics
from secalerts.core.content_encoding import decode_content
from secalerts.events.serializers import EventSerializer, event_payload
from secalerts.events.storage import stored
from secalerts.events.validation import validate_events
from secalerts.ingest.service import IngestResult, ingest_events

# A request's answer once its events are ingested (maybe with other requests'), given the
# ids already answered as stored (see `answer`): (status, JSON body).
Answer = Callable[[IngestResult, set[UUID]], tuple[int, dict[str, Any]]]


def post_events(
    body: bytes,
    content_type: str,
    *,
    sender: dict[str, str] | None,
    default_source: str = "",
    content_encoding: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Returns (status, JSON body). Raises DomainError subclasses for 4xx answers."""
    events, is_batch = read_body(
        body,
        content_type,
        sender=sender,
        default_source=default_source,
        content_encoding=content_encoding,
    )
    return answer(events, is_batch, ingest_events(events=events), claimed=set())


def read_body(
    body: bytes,
    content_type: str,
    *,
    sender: dict[str, str] | None,
    default_source: str = "",
    content_encoding: str | bytes | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Validated events and whether the body was a batch; raises DomainError (4xx).
    `sender` is stored as each event's `received_by`; `default_source` is the `source`
    of events that omit it (the sender's API key's). A gzip body is inflated first."""
    body = decode_content(body, content_encoding, max_bytes=settings.EVENTS_MAX_BODY_BYTES)
    events, is_batch = validate_events(
        body,
        content_type,
        max_batch=settings.EVENTS_MAX_BATCH,
        max_bytes=settings.EVENTS_MAX_BODY_BYTES,
        now=timezone.now(),
        default_source=default_source,
    )
    for event in events:
        event["received_by"] = sender
    return events, is_batch


def read_request(
    body: bytes, content_type: str, content_encoding: bytes | None, who: Identity
) -> tuple[list[dict[str, Any]], Answer]:
    """POST /api/events/ as the direct path reads it (`writer.Reader`)."""
    events, is_batch = read_body(
        body,
        content_type,
        sender=who.sender(),
        default_source=who.source,
        content_encoding=content_encoding,
    )
    return events, lambda result, claimed: answer(events, is_batch, result, claimed=claimed)


def answer(
    events: Sequence[dict[str, Any]], is_batch: bool, result: IngestResult, *, claimed: set[UUID]
) -> tuple[int, dict[str, Any]]:
    """The answer to one request whose events `result` ingested, maybe with other requests'.

    `claimed` holds the ids already answered as stored: of two requests (or two items)
    with one id, the first is answered as storing it and the second as a duplicate.
    """
    accepted = []
    for event in events:
        if event["id"] in result.stored_ids and event["id"] not in claimed:
            claimed.add(event["id"])
            accepted.append(event["id"])
    metrics.count_events(
        metrics.HTTP, accepted=len(accepted), duplicate=len(events) - len(accepted)
    )
    alerts = result.alerts_of(accepted)
    if is_batch:
        return 201, {
            "accepted": len(accepted),
            "duplicates": len(events) - len(accepted),
            "alerts": alerts,
        }
    event = events[0]
    if not accepted:
        # A retried single event: answer with what is stored, as an idempotent PUT would.
        original = stored([event["id"]]).first()
        if original is None:  # pruned (events.retention) since its id was checked
            return 200, {**event_payload(event, result.received_at), "alerts": alerts}
        return 200, {**EventSerializer(original).data, "alerts": alerts}
    return 201, {**event_payload(event, result.received_at), "alerts": alerts}
