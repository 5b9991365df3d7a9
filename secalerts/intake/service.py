"""Taking in what shippers send: ids that make retries idempotent, the same validation and
ingest as POST /api/events/, and the intake answer."""

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from secalerts.core import metrics
from secalerts.core.content_encoding import decode_content
from secalerts.events import parsing
from secalerts.events.validation import validate_items
from secalerts.ingest.service import IngestResult, ingest_events
from secalerts.intake.ecs import ecs_to_event
from secalerts.intake.syslog_records import lines_to_events, records_to_events
from secalerts.logparsers import UNPARSED

TEXT_TYPES = frozenset({"text/plain"})


def take(
    events: list[dict[str, Any]], *, body: bytes, sender: dict[str, str], default_source: str
) -> dict[str, Any]:
    """Store a request's events as one atomic batch; 201 body `{accepted, duplicates,
    unparsed, alerts}`. A retried request (the same body from the same sender) gets the
    same ids, so nothing is stored twice."""
    valid = prepare(events, body=body, sender=sender, default_source=default_source)
    return answer(valid, ingest_events(events=valid), claimed=set())


def prepare(
    events: list[dict[str, Any]], *, body: bytes, sender: dict[str, str], default_source: str
) -> list[dict[str, Any]]:
    """A request's events with their ids, validated and marked with their sender, ready
    for `ingest_events`; raises InvalidEvents keyed by index."""
    # The first id is a hash of the sender and the body, the others follow it: as unique
    # as one uuid5 a record, for the price of one hash a request.
    digest = hashlib.sha256(f"{sender['kind']}:{sender['name']}:".encode() + body).digest()
    first = int.from_bytes(digest[:16])
    for position, event in enumerate(events):
        if isinstance(event, dict):  # anything else is refused by validation, by index
            event["id"] = uuid.UUID(int=(first + position) % 2**128)
    valid = validate_items(events, now=timezone.now(), default_source=default_source)
    for event in valid:
        event["received_by"] = sender
    return valid


def answer(
    valid: Sequence[dict[str, Any]], result: IngestResult, *, claimed: set[uuid.UUID]
) -> dict[str, Any]:
    """The 201 body of a request whose prepared events `result` ingested, maybe with other
    requests'. `claimed` holds the ids already answered as stored: of two requests with
    one id (a retry in the same group), the first stored it, the second has a duplicate."""
    accepted = []
    for event in valid:
        if event["id"] in result.stored_ids and event["id"] not in claimed:
            claimed.add(event["id"])
            accepted.append(event["id"])
    metrics.count_events(
        metrics.INTAKE, accepted=len(accepted), duplicate=len(valid) - len(accepted)
    )
    return {
        "accepted": len(accepted),
        "duplicates": len(valid) - len(accepted),
        "unparsed": sum(event["event_type"] == UNPARSED for event in valid),
        "alerts": result.alerts_of(accepted),
    }


def syslog_events(
    body: bytes, content_type: str, content_encoding: str | bytes | None, *, default_host: str
) -> tuple[bytes, list[dict[str, Any]]]:
    """POST /api/intake/syslog/: the inflated body and its events, not yet validated."""
    plain, records = read_records(body, content_type, content_encoding)
    now, host = timezone.now(), default_host or None
    events = (
        lines_to_events(text_lines(plain), now=now, default_host=host)
        if records is None
        else records_to_events(records, now=now, default_host=host)
    )
    return plain, events


def ecs_events(
    body: bytes, content_type: str, content_encoding: str | bytes | None
) -> tuple[bytes, list[Any]]:
    """POST /api/intake/ecs/: the inflated body and its events (non-objects kept, for
    validation to refuse by index)."""
    plain, records = read_records(body, content_type, content_encoding, text=False)
    return plain, [ecs_to_event(doc) if isinstance(doc, dict) else doc for doc in records or []]


def read_records(
    body: bytes,
    content_type: str,
    content_encoding: str | bytes | None,
    *,
    text: bool = True,
) -> tuple[bytes, list[Any] | None]:
    """The inflated body and its JSON records, or None for a text/plain body (where
    `text` allows one; elsewhere it is an unsupported media type, 415)."""
    plain = decode_content(body, content_encoding, max_bytes=settings.EVENTS_MAX_BODY_BYTES)
    if text and parsing.media_type(content_type) in TEXT_TYPES:
        return plain, None
    records, _ = parsing.read_events(
        plain,
        content_type,
        max_batch=settings.EVENTS_MAX_BATCH,
        max_bytes=settings.EVENTS_MAX_BODY_BYTES,
    )
    return plain, records


def text_lines(plain: bytes) -> list[str]:
    """The non-empty lines of a text body, invalid UTF-8 replaced rather than refused."""
    lines = [line for line in plain.decode("utf-8", "replace").splitlines() if line.strip()]
    parsing.check_batch_size(len(lines), is_batch=True, max_batch=settings.EVENTS_MAX_BATCH)
    return lines
