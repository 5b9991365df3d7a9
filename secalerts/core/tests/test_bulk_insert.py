"""Values written by the bulk paths are the ones Django itself would write."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from secalerts.core.bulk_insert import datetime_adapter, insert_new_rows, uuid_adapter
from secalerts.events import partitions
from secalerts.events.models import Event
from secalerts.events.storage import COLUMNS

# The events table's unique key: on PostgreSQL it is partitioned by time, so the time
# is part of it (events.partitions).
KEY = ("id", "timestamp") if partitions.is_partitioned() else ("id",)

VALUES = [
    datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
]


def row(**values: object) -> tuple:
    """An events row by column name (storage.COLUMNS), the rest of it plain."""
    plain = {"event_type": "t", "severity": "info", "source": "s", "data": "{}"}
    return tuple((plain | values).get(name) for name in COLUMNS)


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_datetime_shortcuts_mean_what_django_writes(db, value):
    """SQLite: the very text Django writes. PostgreSQL: text the server reads as the
    same instant."""
    adapted = datetime_adapter()(value)
    if connection.vendor == "sqlite":
        assert adapted == connection.ops.adapt_datetimefield_value(value)
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::timestamptz", [adapted])
            assert cursor.fetchone()[0] == value


def test_uuid_adapter_matches_the_uuid_field(db):
    value = uuid.uuid4()
    field = Event._meta.get_field("id")

    assert uuid_adapter()(value) == field.get_db_prep_value(value, connection)


@pytest.mark.parametrize("likely_new", [True, False], ids=["likely_new", "staged"])
def test_insert_new_rows_reports_only_the_rows_it_added(db, likely_new):
    """Enough rows for the bulk paths: rows stored already are skipped, not doubled,
    whichever path wrote them, and the transaction goes on after a path that gave way."""
    db_uuid, adapt = uuid_adapter(), datetime_adapter()

    def rows(ids):
        stamp = adapt(VALUES[0])
        return [row(id=db_uuid(uuid.UUID(int=i)), timestamp=stamp, received_at=stamp) for i in ids]

    def insert(ids):
        added = insert_new_rows(
            Event._meta.db_table,
            COLUMNS,
            rows(ids),
            conflict=KEY,
            returning="id",
            likely_new=likely_new,
        )
        return {value if isinstance(value, uuid.UUID) else uuid.UUID(value) for value in added}

    with transaction.atomic():
        assert insert(range(41, 101)) == {uuid.UUID(int=i) for i in range(41, 101)}
        # 41..100 are stored already: only 1..40 and 101..160 are added. Written in key
        # order, a straight write stores 1..40 before it meets 41: that must be undone.
        added = insert(range(1, 161))
        assert added == {uuid.UUID(int=i) for i in [*range(1, 41), *range(101, 161)]}
        assert Event.objects.count() == 160


@pytest.mark.parametrize("likely_new", [True, False], ids=["likely_new", "staged"])
def test_datetimes_written_by_the_bulk_paths_read_back_as_the_same_instants(db, likely_new):
    """Enough rows for COPY on PostgreSQL, and a few through a plain INSERT."""
    db_uuid, adapt = uuid_adapter(), datetime_adapter()
    for count in (len(VALUES) * 20, len(VALUES)):
        ids = [uuid.uuid4() for _ in range(count)]
        stamps = [VALUES[i % len(VALUES)] for i in range(count)]
        rows = [
            row(id=db_uuid(i), timestamp=adapt(t), received_at=adapt(t))
            for i, t in zip(ids, stamps, strict=True)
        ]
        with transaction.atomic():
            insert_new_rows(
                Event._meta.db_table,
                COLUMNS,
                rows,
                conflict=KEY,
                returning="id",
                likely_new=likely_new,
            )

        stored = dict(Event.objects.filter(pk__in=ids).values_list("pk", "timestamp"))
        assert [stored[i] for i in ids] == stamps
