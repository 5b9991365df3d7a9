"""Values written by the bulk paths are the ones Django itself would write."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from secalerts.core.bulk_insert import datetime_adapter, uuid_adapter
from secalerts.events.models import Event

VALUES = [
    datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the shortcut exists on SQLite only; elsewhere it is Django's",
)
@pytest.mark.parametrize("value", VALUES, ids=str)
def test_sqlite_datetime_shortcut_matches_django(db, value):
    assert datetime_adapter()(value) == connection.ops.adapt_datetimefield_value(value)


def test_uuid_adapter_matches_the_uuid_field(db):
    value = uuid.uuid4()
    field = Event._meta.get_field("id")

    assert uuid_adapter()(value) == field.get_db_prep_value(value, connection)
