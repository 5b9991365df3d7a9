"""Event rows written in bulk, reporting which ids were new (core/bulk_insert.py)."""

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
)


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
        )
        for event in events
    ]


def insert_events(rows: Sequence[tuple]) -> set[Any]:
    """Insert event rows (`event_rows`) not stored yet; returns the ids inserted by this
    call in the rows' own form (hex text on SQLite), so that no UUID is parsed back (1000
    a batch). Of two events with one id in the batch, the first is stored."""
    return set(
        bulk_insert.insert_new_rows(
            Event._meta.db_table, COLUMNS, rows, conflict=("id",), returning="id", likely_new=True
        )
    )
