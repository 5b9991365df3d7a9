"""Two workers ingesting matching events for one group at once raise one alert, not two."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events
from secalerts.rules.services import create_rule

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def validated(events: list[dict]) -> list[dict]:
    import json

    body = json.dumps(events, default=str).encode()
    return validate_events(body, "application/json", max_batch=1000, max_bytes=10**7, now=T0)[0]


def run_at_once(batches: list[list[dict]]) -> None:
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def work(batch: list[dict]) -> None:
        try:
            barrier.wait(timeout=10)
            ingest_events(events=batch)
        except BaseException as error:  # reported to the test thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def event(seconds: int, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "event_type": "auth.failure",
        "source": "vpn",
        "source_ip": "192.0.2.50",
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat(),
    } | fields


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_threshold_halves_raise_exactly_one_alert(attempt):
    rule = create_rule(
        name=f"burst {attempt}",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
        group_by=["source_ip"],
        threshold={"count": 6, "window_seconds": 60},
    )
    first = validated([event(s) for s in range(0, 6, 2)])
    second = validated([event(s) for s in range(1, 6, 2)])

    run_at_once([first, second])

    alert = Alert.objects.get(rule=rule)
    assert alert.event_count == 6
    assert alert.events.count() == 6


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_matches_for_one_group_dedup_into_one_alert(attempt):
    rule = create_rule(
        name=f"malware {attempt}",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.found"},
        group_by=["source"],
    )
    batches = [validated([event(i, event_type="malware.found")]) for i in range(4)]

    run_at_once(batches)

    alert = Alert.objects.get(rule=rule)
    assert alert.event_count == 4


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_batches_sharing_ids_in_opposite_orders_both_succeed(attempt):
    """A shipper's retry racing its original, items reordered: no deadlock between them
    (in batch order, about one attempt in three deadlocked)."""
    shared = validated([event(s, event_type="vpn.connect") for s in range(400)])

    run_at_once([shared, shared[::-1]])

    assert Event.objects.count() == 400
