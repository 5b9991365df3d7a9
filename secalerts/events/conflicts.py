"""Ids sent again: the same content is a retry (a duplicate), other content a conflict.

Without the comparison, an event sent first with a chosen id and harmless content
would make the real event with that id a silent duplicate, hiding it from the rules.
"""

import ipaddress
from collections.abc import Sequence
from typing import Any

import msgspec

from secalerts.core.errors import IdConflict
from secalerts.detection.schema import EVENT_SCHEMA, Kind
from secalerts.events.storage import stored

STORED_MESSAGE = "id_conflict: an event with this id and different content is already stored."
BATCH_MESSAGE = "id_conflict: an earlier item with this id has different content."

# What a client sends, besides the id and the timestamp (compared when it was sent).
_FIELDS = tuple(f.name for f in EVENT_SCHEMA if f.sent and f.name not in {"id", "timestamp"})
_JSON = frozenset(f.name for f in EVENT_SCHEMA if f.kind is Kind.JSON)
_IPS = frozenset(f.name for f in EVENT_SCHEMA if f.kind is Kind.IP)
# JSON values, not text: key order and spacing are not content.
_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def check_duplicates(events: Sequence[dict[str, Any]], *, kept: Sequence[int]) -> None:
    """Raise IdConflict when an event not stored (`kept`: the positions stored) differs
    from the event stored under its id. Call in the transaction that stored `kept`."""
    first_of = {events[position]["id"]: position for position in kept}
    duplicates = [p for p in range(len(events)) if events[p]["id"] not in first_of]
    earlier = {p: first_of[e["id"]] for p, e in enumerate(events) if first_of.get(e["id"], p) < p}
    stored = _stored_contents([events[p]["id"] for p in duplicates]) if duplicates else {}
    errors: dict[str, dict[str, list[str]]] = {}
    for position, event in enumerate(events):
        if position in earlier:
            original = _content(events[earlier[position]])
            if not _same(event, original):
                errors[str(position)] = {"id": [BATCH_MESSAGE]}
        elif event["id"] in stored and not _same(event, stored[event["id"]]):
            errors[str(position)] = {"id": [STORED_MESSAGE]}
    if errors:
        error = IdConflict("Conflicting event ids: nothing was stored.", detail=errors)
        error.refused_events = len(events)
        raise error


def _stored_contents(ids: list[Any]) -> dict[Any, tuple[Any, tuple[Any, ...]]]:
    """One query for every duplicate id, stored before this batch."""
    rows = stored(list(set(ids))).values_list("id", "timestamp", *_FIELDS)
    return {row[0]: (row[1], _normalized(dict(zip(_FIELDS, row[2:], strict=True)))) for row in rows}


def _content(event: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    return event["timestamp"], _normalized(event)


def _normalized(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        _encode_sorted(values[name])
        if name in _JSON
        else _canonical_ip(values[name])
        if name in _IPS
        else values[name]
        for name in _FIELDS
    )


def _canonical_ip(value: str | None) -> str | None:
    return None if value is None else str(ipaddress.ip_address(value))


def _same(event: dict[str, Any], stored: tuple[Any, tuple[Any, ...]]) -> bool:
    timestamp, fields = stored
    if event.get("timestamp_sent", True) and event["timestamp"] != timestamp:
        return False
    return _normalized(event) == fields
