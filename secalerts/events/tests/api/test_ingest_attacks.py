"""Ingest attacks from the review, through the ASGI application: none may lose a batch
with a 500, hide another sensor's event, or store what the filters cannot find."""

import uuid

import pytest

from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.events.tests.asgi_client import post_events
from secalerts.rules.services import create_rule

# The direct path's writer thread commits: no test transaction to roll back.
pytestmark = pytest.mark.django_db(transaction=True)


def event(**fields) -> dict:
    return {"event_type": "auth.failure", "source": "fw-1", "source_ip": "203.0.113.9"} | fields


@pytest.fixture
def analyst(analyst_user, bearer) -> str:
    return bearer(analyst_user)


@pytest.fixture
def grouped_threshold_rule(transactional_db):
    return create_rule(
        name="Failures per address",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
        group_by=["source_ip"],
        threshold={"count": 2, "window_seconds": 60},
    )


@pytest.fixture
def malware_rule(transactional_db):
    return create_rule(
        name="Malware seen",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )


@pytest.mark.parametrize(
    "timestamp",
    [
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "2100-01-01T00:00:01Z",
        "2100-01-01T00:00:01",
    ],
)
def test_timestamp_outside_1970_to_2100_is_an_invalid_item(
    analyst, grouped_threshold_rule, timestamp
):
    batch = [event(timestamp="2026-12-01T00:00:01Z"), event(timestamp=timestamp)]

    status, body = post_events(batch, analyst)

    assert status == 400
    assert list(body["errors"]) == ["1"]
    assert list(body["errors"]["1"]) == ["timestamp"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("timestamp", ["1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z"])
def test_timestamps_at_the_bounds_go_through_windows_and_dedup(analyst, timestamp):
    # The widest windows the rules allow reach past the bounds: stored hits and open
    # alerts are looked up a year either side.
    year = 31_536_000
    rule = create_rule(
        name="A year of failures",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
        group_by=["source_ip"],
        threshold={"count": 2, "window_seconds": year},
        dedup_window_seconds=year,
    )

    answers = [post_events([event(timestamp=timestamp)], analyst) for _ in range(3)]

    assert [status for status, _ in answers] == [201, 201, 201]
    assert Alert.objects.get(rule=rule).event_count == 3


def test_reused_id_with_other_content_is_a_conflict_and_hides_nothing(analyst, malware_rule):
    claimed = str(uuid.uuid4())
    post_events(event(id=claimed, event_type="heartbeat"), analyst)
    real = event(id=claimed, event_type="malware.detected", source="edr-7")

    status, body = post_events([event(), real], analyst)

    assert status == 400
    assert body["code"] == "id_conflict"
    assert body["errors"] == {
        "1": {"id": ["id_conflict: an event with this id and different content is already stored."]}
    }
    assert Event.objects.count() == 1  # the first item of the batch is not stored either
    assert Event.objects.get().event_type == "heartbeat"
    assert not Alert.objects.exists()


def test_reused_id_on_a_single_event_is_a_conflict(analyst, malware_rule):
    claimed = str(uuid.uuid4())
    post_events(event(id=claimed, event_type="heartbeat"), analyst)

    status, body = post_events(event(id=claimed, event_type="malware.detected"), analyst)

    assert status == 400
    assert body["code"] == "id_conflict"
    assert list(body["errors"]) == ["0"]
    assert Event.objects.get().event_type == "heartbeat"


def test_identical_retry_stays_an_idempotent_duplicate(analyst, malware_rule):
    # No timestamp: each send gets its own time received, which is not the client's content.
    sent = event(
        id=str(uuid.uuid4()),
        event_type="malware.detected",
        source_ip="2001:DB8:0:0::1",
        data={"b": [1, {"c": None}], "a": 1.5},
    )
    first_status, first = post_events(sent, analyst)

    status, body = post_events([sent], analyst)

    assert first_status == 201
    assert len(first["alerts"]) == 1
    assert status == 201
    assert body == {"accepted": 0, "duplicates": 1, "alerts": []}
    assert Event.objects.count() == 1
    assert Alert.objects.get().event_count == 1


def test_identical_retry_with_an_explicit_timestamp_is_a_duplicate(analyst):
    sent = event(id=str(uuid.uuid4()), timestamp="2026-12-01T01:00:00+01:00")
    post_events(sent, analyst)

    status, _ = post_events(sent | {"timestamp": "2026-12-01T00:00:00Z"}, analyst)

    assert status == 200  # the same instant, written another way


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "2026-12-01T00:00:01Z"},
        {"severity": "high"},
        {"source": "fw-2"},
        {"source_ip": "203.0.113.10"},
        {"destination_ip": "192.0.2.1"},
        {"destination_port": 22},
        {"username": "root"},
        {"message": "x"},
        {"data": {"k": 2}},
    ],
)
def test_any_difference_in_what_was_sent_is_a_conflict(analyst, change):
    sent = event(
        id=str(uuid.uuid4()), timestamp="2026-12-01T00:00:00Z", data={"k": 1}, severity="low"
    )
    post_events(sent, analyst)

    status, body = post_events([sent | change], analyst)

    assert status == 400
    assert body["code"] == "id_conflict"
    assert Event.objects.count() == 1


def test_one_id_twice_in_a_batch_with_other_content_is_a_conflict(analyst):
    claimed = str(uuid.uuid4())
    batch = [event(id=claimed), event(), event(id=claimed, source="other")]

    status, body = post_events(batch, analyst)

    assert status == 400
    assert body["code"] == "id_conflict"
    assert list(body["errors"]) == ["2"]
    assert Event.objects.count() == 0


def test_one_id_twice_in_a_batch_with_the_same_content_is_a_duplicate(analyst):
    claimed = str(uuid.uuid4())

    status, body = post_events([event(id=claimed), event(id=claimed)], analyst)

    assert (status, body["accepted"], body["duplicates"]) == (201, 1, 1)


@pytest.mark.parametrize("event_type", ["auth.failure\n", "auth.failure\r", "\nauth.failure"])
def test_event_type_with_a_newline_is_refused(analyst, event_type):
    status, body = post_events([event(event_type=event_type)], analyst)

    assert status == 400
    assert list(body["errors"]["0"]) == ["event_type"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("field", ["source_ip", "destination_ip"])
@pytest.mark.parametrize("address", ["fe80::1%eth0", "fe80::1%1", "ff02::1%0"])
def test_scoped_ipv6_address_is_refused(analyst, field, address):
    status, body = post_events([event(**{field: address})], analyst)

    assert status == 400
    assert body["errors"]["0"] == {field: ["Enter a valid IPv4 or IPv6 address."]}
    assert Event.objects.count() == 0
