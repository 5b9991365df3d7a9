"""Event rows written in bulk, reporting which ids were new (core/bulk_insert.py)."""

import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from secalerts.core import bulk_insert
from secalerts.detection.schema import EVENT_SCHEMA, Kind
from secalerts.events.models import Event

COLUMNS = tuple(field.name for field in EVENT_SCHEMA)
_ID = COLUMNS.index("id")


def event_rows(events: Sequence[dict[str, Any]], *, received_at: datetime) -> list[tuple]:
    """Validated events (events.validation) as rows of COLUMNS, in the database's value
    forms. Built a column at a time: as fast as a tuple spelled out per row."""
    adapt = _optional(bulk_insert.datetime_adapter())
    db_uuid = _optional(bulk_insert.uuid_adapter())
    columns: list[list[Any]] = []
    for field in EVENT_SCHEMA:
        name = field.name
        if name == "received_at":  # the batch's, stamped here
            columns.append([adapt(received_at)] * len(events))
        elif field.kind is Kind.SENDER:
            columns.append([_received_by(event.get(name)) for event in events])
        elif field.kind is Kind.JSON:  # encoded by validation, which measured it
            columns.append([event[f"{name}_json"].decode() for event in events])
        elif field.kind is Kind.TIME:
            columns.append([adapt(event[name]) for event in events])
        elif field.kind is Kind.UUID:
            columns.append([db_uuid(event[name]) for event in events])
        else:
            columns.append([event[name] for event in events])
    return list(zip(*columns, strict=True))


def _optional(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else adapt(value)


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
