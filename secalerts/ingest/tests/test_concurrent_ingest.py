"""Two workers ingesting matching events for one group at once raise one alert, not two."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.rules.services import create_rule
from tests.concurrent_ingest import run_at_once, validated

T0 = datetime(2026, 2, 1, tzinfo=UTC)


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

    assert not any(run_at_once([first, second]))

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

    assert not any(run_at_once(batches))

    alert = Alert.objects.get(rule=rule)
    assert alert.event_count == 4


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_batches_sharing_ids_in_opposite_orders_both_succeed(attempt):
    """A shipper's retry racing its original, items reordered: no deadlock between them
    (in batch order, about one attempt in three deadlocked)."""
    shared = validated([event(s, event_type="vpn.connect") for s in range(400)])

    assert not any(run_at_once([shared, shared[::-1]]))

    assert Event.objects.count() == 400
