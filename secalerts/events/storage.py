"""Bulk event insert, reporting which ids were new.

`bulk_create(ignore_conflicts=True)` cannot say which rows were skipped as duplicates,
and the ORM's per-value preparation costs more than the insert itself. SQLite gets a
multi-row INSERT .. ON CONFLICT DO NOTHING RETURNING id per chunk; PostgreSQL the same
statement fed by COPY (core/pg_copy.py), three times faster there.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import connection

from secalerts.core import pg_copy
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
CHUNK_ROWS = 500  # 12 parameters a row: well under SQLite's and PostgreSQL's limits


def insert_events(events: Sequence[dict[str, Any]], *, received_at: datetime) -> set[UUID]:
    """Insert events not stored yet; returns the ids that were inserted by this call."""
    if not events:
        return set()
    if connection.vendor == "postgresql" and len(events) >= pg_copy.MIN_ROWS:
        # An id repeated within the batch: its first copy is the one stored, as below.
        first: dict[UUID, dict[str, Any]] = {}
        for event in events:
            first.setdefault(event["id"], event)
        rows = (_row(event, received_at, sqlite=False) for event in first.values())
        return set(
            pg_copy.insert_new_rows(
                Event._meta.db_table, COLUMNS, rows, conflict=("id",), returning="id"
            )
        )
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    sqlite = connection.vendor == "sqlite"
    received = _sqlite_datetime(received_at) if sqlite else received_at
    inserted: set[UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), CHUNK_ROWS):
            chunk = events[start : start + CHUNK_ROWS]
            placeholders = ", ".join([_ROW_PLACEHOLDER] * len(chunk))
            params = [value for event in chunk for value in _row(event, received, sqlite=sqlite)]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders} "  # noqa: S608 - names are ours
                "ON CONFLICT (id) DO NOTHING RETURNING id",
                params,
            )
            rows = cursor.fetchall()
            inserted.update(UUID(str(row[0])) if sqlite else row[0] for row in rows)
    return inserted


_ROW_PLACEHOLDER = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"


def _sqlite_datetime(value: datetime) -> str:
    # The text form Django's SQLite backend stores: naive UTC, space separator.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _row(event: dict[str, Any], received: object, *, sqlite: bool) -> tuple[object, ...]:
    return (
        event["id"].hex if sqlite else event["id"],
        _sqlite_datetime(event["timestamp"]) if sqlite else event["timestamp"],
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
