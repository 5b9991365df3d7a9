"""Event rows written in bulk, reporting which ids were new (core/bulk_insert.py)."""

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from secalerts.core import bulk_insert
from secalerts.events.models import Event

COLUMNS = (
    "id",
    "timestamp",
    "received_at",
    "event_type",
    "severity",
    "source",
    "source_ip",
    "destination_ip",
    "destination_port",
    "username",
    "message",
    "data",
    "received_by",
)
_ID = COLUMNS.index("id")


def event_rows(events: Sequence[dict[str, Any]], *, received_at: datetime) -> list[tuple]:
    """The events as rows of COLUMNS, in the database's value forms."""
    adapt = bulk_insert.datetime_adapter()
    db_uuid = bulk_insert.uuid_adapter()
    received = adapt(received_at)
    return [
        (
            db_uuid(event["id"]),
            adapt(event["timestamp"]),
            received,
            event["event_type"],
            event["severity"],
            event["source"],
            event["source_ip"],
            event["destination_ip"],
            event["destination_port"],
            event["username"],
            event["message"],
            event["data_json"].decode(),
            _received_by(event.get("received_by")),
        )
        for event in events
    ]


@functools.lru_cache(maxsize=1024)
def _sender_json(kind: str, name: str) -> str:
    return json.dumps({"kind": kind, "name": name})


def _received_by(sender: dict[str, str] | None) -> str | None:
    """JSON text of the sender; a batch has one, so it is encoded once."""
    return None if sender is None else _sender_json(sender["kind"], sender["name"])


def insert_events(rows: Sequence[tuple]) -> list[int]:
    """Insert event rows (`event_rows`) not stored yet; returns the positions of the rows
    this call stored, in order. Of two rows with one id, the first is stored.

    The ids come back in the rows' own form (hex text on SQLite) and are compared as
    such: parsing them back into UUIDs and hashing those cost several times more.
    """
    inserted = set(
        bulk_insert.insert_new_rows(
            Event._meta.db_table, COLUMNS, rows, conflict=("id",), returning="id", likely_new=True
        )
    )
    positions, seen = [], set()
    for position, row in enumerate(rows):
        if row[_ID] in inserted and row[_ID] not in seen:
            seen.add(row[_ID])
            positions.append(position)
    return positions
