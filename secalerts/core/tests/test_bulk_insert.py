"""Values written by the bulk paths are the ones Django itself would write."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from secalerts.core.bulk_insert import datetime_adapter

VALUES = [
    datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_datetime_adapter_matches_django(db, value):
    assert datetime_adapter()(value) == connection.ops.adapt_datetimefield_value(value)
