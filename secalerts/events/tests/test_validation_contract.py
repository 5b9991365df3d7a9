"""The msgspec validator on the ingest path and the documented EventInputSerializer agree."""

import json

import pytest
from django.utils import timezone

from secalerts.core.errors import InvalidInput
from secalerts.events.serializers import EventInputSerializer
from secalerts.events.validation import validate_events

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
