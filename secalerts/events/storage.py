"""Event rows written in bulk, reporting which ids were new (core/bulk_insert.py)."""

import functools
import json
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from secalerts.core import bulk_insert
from secalerts.detection.schema import EVENT_SCHEMA, Kind
from secalerts.events import partitions
from secalerts.events.models import Event, EventId

COLUMNS = tuple(field.name for field in EVENT_SCHEMA)
_ID = COLUMNS.index("id")
_TIME = COLUMNS.index("timestamp")


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
    if partitioned := partitions.is_partitioned():
        inserted = _claim_ids(rows)
    else:
        inserted = set(
            bulk_insert.insert_new_rows(
                Event._meta.db_table,
                COLUMNS,
                rows,
                conflict=("id",),
                returning="id",
                likely_new=True,
            )
        )
    positions, seen = [], set()
    for position, row in enumerate(rows):
        if row[_ID] in inserted and row[_ID] not in seen:
            seen.add(row[_ID])
            positions.append(position)
    if partitioned:
        bulk_insert.insert_rows(Event._meta.db_table, COLUMNS, [rows[p] for p in positions])
    return positions


def _claim_ids(rows: Sequence[tuple]) -> set[Any]:
    """PostgreSQL: the ids of these rows not stored yet, claimed in the unpartitioned id
    table (events.partitions), whose primary key decides between concurrent transactions
    too. One statement over two arrays (a COPY of the pairs cost more); as in
    bulk_insert, first without ON CONFLICT (which costs several times more a row) under
    a savepoint, ids being almost always new."""
    first: dict[Any, Any] = {}
    for row in rows:
        first.setdefault(row[_ID], row[_TIME])
    # In key order, as bulk_insert does: two batches sharing ids wait in one direction.
    ids = sorted(first, key=operator.attrgetter("int"))
    params = [ids, [first[i] for i in ids]]
    insert = (
        f'INSERT INTO {EventId._meta.db_table} (id, "timestamp") '  # noqa: S608 - our name
        "SELECT * FROM unnest(%s::uuid[], %s::timestamptz[])"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, params)
        return set(ids)
    except IntegrityError:
        pass
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} ON CONFLICT (id) DO NOTHING RETURNING id", params)
        return {row[0] for row in cursor.fetchall()}


def stored(ids: Sequence[Any]) -> "QuerySet[Event]":
    """The stored events of these ids. On PostgreSQL their times are read from the id
    table first (a query of its own): as constants they narrow the look-up to those days'
    partitions, where a join or subquery would have the planner visit every day's."""
    queryset = Event.objects.filter(pk__in=ids)
    if partitions.is_partitioned():
        times = set(EventId.objects.filter(pk__in=ids).values_list("timestamp", flat=True))
        queryset = queryset.filter(timestamp__in=times)
    return queryset


def newest_first(ids: "QuerySet[Any]") -> list[Any]:
    """These stored events' ids (a query of ids), newest event first. On PostgreSQL from
    the id table: a join to the partitioned table would read every day's partition."""
    model = EventId if partitions.is_partitioned() else Event
    rows = model._default_manager.filter(pk__in=ids).order_by("-timestamp", "-id")
    return list(rows.values_list("id", flat=True))
