"""The event list's filters read their index, newest first, on both databases."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from secalerts.events.filters import EventFilter
from secalerts.events.models import Event

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def many_events(db):
    """20,000 events; half without a username and a fifth without a source IP."""
    Event.objects.bulk_create(
        Event(
            id=uuid.uuid4(),
            timestamp=T0 + timedelta(seconds=i),
            received_at=T0 + timedelta(seconds=i),
            event_type=f"ssh.kind{i % 8}",
            source=f"host-{i % 20}",
            source_ip=None if i % 5 == 0 else f"10.{i % 250}.{i % 200}.1",
            username=None if i % 2 else f"user{i % 300}",
        )
        for i in range(20_000)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE events_event")


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "event_newest"),
        ({"event_type": "ssh.kind3"}, "event_type_time"),
        ({"source": "host-7"}, "event_source_time"),
        ({"source_ip": "10.7.7.1"}, "event_source_ip_time"),
        ({"username": "user8"}, "event_username_time"),
    ],
)
def test_event_list_filters_use_their_index(many_events, params, index):
    queryset = EventFilter(params, queryset=Event.objects.all()).qs
    sql, sql_params = queryset.order_by("-timestamp", "-id")[:51].query.sql_with_params()
    explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", sql_params)
        text = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert any(name in text for name in _with_partition_indexes(index)), text
    # Day partitions left empty by the data (the days ahead) may be "scanned": nothing read.
    assert not any(f"Seq Scan on {table} " in text for table in _tables_with_rows()), text
    assert "SCAN events_event\n" not in f"{text}\n", text  # SQLite's scan of the table


def _with_partition_indexes(index: str) -> set[str]:
    """On PostgreSQL each day partition has its own copy of the model's index."""
    if connection.vendor != "postgresql":
        return {index}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [index],
        )
        return {index} | {row[0] for row in cursor.fetchall()}


def _tables_with_rows() -> list[str]:
    if connection.vendor != "postgresql":
        return ["events_event"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE 'events_event%%' AND reltuples > 0"
        )
        return [row[0] for row in cursor.fetchall()]
