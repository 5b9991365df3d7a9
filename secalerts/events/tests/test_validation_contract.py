"""The msgspec validator on the ingest path and the documented EventInputSerializer agree."""

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from secalerts.core.errors import InvalidInput
from secalerts.events.serializers import EventInputSerializer
from secalerts.events.validation import InvalidEvents, validate_dict, validate_events

BASE = {"event_type": "auth.failure", "source": "fw-1"}
CASES = [
    BASE,
    BASE | {"id": "5f0c6f8e-1b7a-4b8e-9a55-0d1b2c3d4e5f", "timestamp": "2026-01-01T00:00:00Z"},
    BASE | {"severity": "critical", "source_ip": "10.0.0.1", "destination_ip": "2001:db8::1"},
    BASE | {"destination_port": 0, "username": "root", "message": "", "data": {"a": [1, {}]}},
    BASE | {"destination_port": 65535, "username": None, "message": None, "data": None},
    BASE | {"source_ip": None, "severity": None, "timestamp": None, "id": None},
    {"source": "x"},
    {"event_type": "a"},
    BASE | {"event_type": "Upper.Case"},
    BASE | {"event_type": "a..b"},
    BASE | {"event_type": "a" * 101},
    BASE | {"source": ""},
    BASE | {"source": "s" * 256},
    BASE | {"severity": "urgent"},
    BASE | {"source_ip": "300.1.1.1"},
    BASE | {"destination_ip": "fe80::zz"},
    BASE | {"destination_port": -1},
    BASE | {"destination_port": 65536},
    BASE | {"destination_port": 1.5},
    BASE | {"username": "u" * 256},
    BASE | {"message": "m" * 10_001},
    BASE | {"data": [1]},
    BASE | {"data": "text"},
    BASE | {"id": "nope"},
    BASE | {"timestamp": "not a time"},
    BASE | {"timestamp": "1970-01-01T00:00:00Z"},
    BASE | {"timestamp": "2100-01-01T00:00:00Z"},
    BASE | {"timestamp": "2100-01-01T01:00:00+01:00"},
    BASE | {"timestamp": "1970-01-01T00:59:59+01:00"},
    BASE | {"timestamp": "1969-12-31T23:59:59Z"},
    BASE | {"timestamp": "2100-01-01T00:00:00.000001Z"},
    BASE | {"timestamp": "2100-01-01T00:00:01"},
    BASE | {"timestamp": "0001-01-01T00:00:00Z"},
    BASE | {"timestamp": "0001-01-01T00:00:00+14:00"},
    BASE | {"timestamp": "9999-12-31T23:59:59Z"},
    BASE | {"timestamp": "9999-12-31T23:59:59-14:00"},
    BASE | {"event_type": "auth.failure\n"},
    BASE | {"event_type": "auth.failure\r\n"},
    BASE | {"event_type": "\nauth.failure"},
    BASE | {"source_ip": "fe80::1%eth0"},
    BASE | {"destination_ip": "fe80::1%1"},
    BASE | {"source_ip": "fe80::1"},
]


def msgspec_accepts(event: dict) -> bool:
    try:
        validate_events(
            json.dumps(event).encode(), "application/json",
            max_batch=10, max_bytes=10**6, now=timezone.now(),
        )  # fmt: skip
    except InvalidInput:
        return False
    return True


@pytest.mark.parametrize("event", CASES, ids=range(len(CASES)))
def test_runtime_validation_matches_the_documented_serializer(event):
    assert msgspec_accepts(event) == EventInputSerializer(data=event).is_valid()


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "1969-12-31T23:59:59Z"},
        {"timestamp": "2100-01-01T00:00:01Z"},
        {"timestamp": "0001-01-01T00:00:00Z"},
        {"timestamp": "9999-12-31T23:59:59Z"},
        {"event_type": "auth.failure\n"},
        {"source_ip": "fe80::1%eth0"},
        {"destination_ip": "fe80::1%eth0"},
    ],
)
def test_both_validators_refuse_what_later_steps_cannot_handle(change):
    event = BASE | change

    assert not msgspec_accepts(event)
    assert not EventInputSerializer(data=event).is_valid()


def dict_accepts(event: dict) -> bool:
    try:
        validate_dict(event, now=timezone.now())
    except InvalidEvents:
        return False
    return True


@pytest.mark.parametrize("event", CASES, ids=range(len(CASES)))
def test_validating_a_decoded_event_matches_validating_its_json(event):
    # The syslog listener validates the parsers' dicts so, without encoding them.
    assert dict_accepts(event) == msgspec_accepts(event)


def test_a_decoded_event_may_hold_datetimes():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    event = validate_dict(BASE | {"timestamp": moment}, now=timezone.now())

    assert event["timestamp"] == moment
    assert event["timestamp_sent"] is True
