"""Duplicate ids: compared with what is stored, as JSON values, in one query."""

import json
import uuid

import pytest
from django.utils import timezone

from secalerts.core.errors import IdConflict
from secalerts.events import partitions
from secalerts.events.conflicts import check_duplicates
from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events


def validated(items: list[dict]) -> list[dict]:
    events, _ = validate_events(
        json.dumps(items).encode(), "application/json",
        max_batch=1000, max_bytes=10**7, now=timezone.now(),
    )  # fmt: skip
    return events


def item(**fields) -> dict:
    return {"id": str(uuid.uuid4()), "event_type": "net.flow", "source": "s"} | fields


def test_all_duplicates_are_compared_in_one_query(db, django_assert_num_queries):
    """Two on PostgreSQL: the ids' times first, which narrow the read to their partitions."""
    stored = [item(data={"n": i}) for i in range(50)]
    ingest_events(events=validated(stored))
    again = validated(stored)

    with django_assert_num_queries(2 if partitions.is_partitioned() else 1):
        check_duplicates(again, kept=[])


@pytest.mark.parametrize(
    ("stored", "sent", "conflict"),
    [
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, False),  # key order is not content
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": 1}, {"a": True}, True),
        ({"a": None}, {}, True),
        ({"a": "x"}, {"a": "x "}, True),
    ],
)
def test_data_is_compared_as_json_values(db, stored, sent, conflict):
    first = item(data=stored)
    ingest_events(events=validated([first]))

    if conflict:
        with pytest.raises(IdConflict):
            check_duplicates(validated([first | {"data": sent}]), kept=[])
    else:
        check_duplicates(validated([first | {"data": sent}]), kept=[])


def test_addresses_are_compared_canonical(db):
    first = item(source_ip="2001:db8::1", destination_ip="192.0.2.1")
    ingest_events(events=validated([first]))

    check_duplicates(validated([first | {"source_ip": "2001:DB8:0:0:0:0:0:1"}]), kept=[])
