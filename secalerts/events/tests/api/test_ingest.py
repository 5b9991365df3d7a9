"""POST /api/events/ as a client sees it: shapes, atomic batches, idempotency, bad input."""

import json
import uuid

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.detection.schema import EVENT_SCHEMA
from secalerts.events.models import Event
from secalerts.rules.services import create_rule

URL = "/api/events/"


def event(**fields):
    return {"event_type": "auth.failure", "source": "fw-1", "source_ip": "203.0.113.9"} | fields


@pytest.fixture
def post(api_client, analyst_user, bearer):
    header = bearer(analyst_user)

    def send(body, content_type="application/json", raw=False):
        data = body if raw else json.dumps(body)
        return api_client.post(
            reverse("events:list"), data, content_type=content_type, HTTP_AUTHORIZATION=header
        )

    return send


def test_single_event_is_stored_and_returned(post):
    event_id = str(uuid.uuid4())

    response = post(event(id=event_id, timestamp="2026-01-02T03:04:05Z", data={"k": [1, 2]}))

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == event_id
    assert body["timestamp"] == "2026-01-02T03:04:05Z"
    assert body["severity"] == "info"
    assert body["data"] == {"k": [1, 2]}
    assert body["alerts"] == []
    assert list(body) == [*(field.name for field in EVENT_SCHEMA), "alerts"]
    assert body["received_by"] == {"kind": "user", "name": "bob-analyst"}
    stored = Event.objects.get(pk=event_id)
    assert stored.data == {"k": [1, 2]}
    assert stored.received_by == body["received_by"]
    assert stored.source_ip == "203.0.113.9"


def test_stored_event_reads_back_exactly_as_answered(post, api_client, analyst_user, bearer):
    created = post(event(username="root", destination_port=22, message="x")).json()

    fetched = api_client.get(
        reverse("events:detail", args=[created["id"]]), HTTP_AUTHORIZATION=bearer(analyst_user)
    )

    assert fetched.json() == {k: v for k, v in created.items() if k != "alerts"}


def test_json_array_batch(post):
    response = post([event(), event(severity="high"), event(source="fw-2")])

    assert response.status_code == 201
    assert response.json()["accepted"] == 3
    assert response.json()["duplicates"] == 0
    assert Event.objects.count() == 3


def test_ndjson_batch(post):
    body = "\n".join(json.dumps(event(username=f"u{i}")) for i in range(4)) + "\n"

    response = post(body, content_type="application/x-ndjson", raw=True)

    assert response.status_code == 201
    assert response.json() == {"accepted": 4, "duplicates": 0, "alerts": []}


def test_batch_with_one_bad_item_stores_nothing(post):
    response = post(
        [event(), event(source_ip="not-an-ip"), event(), {"source": "x"}, event(event_type="A.b")]
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {
        "1": {"source_ip": ["Enter a valid IPv4 or IPv6 address."]},
        "3": {"event_type": ["This field is required."]},
        "4": {
            "event_type": [
                "Enter lowercase words of a-z, 0-9, _ or - joined by dots, e.g. auth.failure."
            ]
        },
    }
    assert Event.objects.count() == 0


def test_addresses_are_stored_canonical_and_overlong_ones_refused(post):
    compact = post(event(source_ip="2001:DB8:0:0:0:0:0:1"))
    overlong = post(event(destination_ip="1" * 100_000))

    assert compact.json()["source_ip"] == "2001:db8::1"
    assert overlong.status_code == 400
    assert overlong.json()["errors"] == {"destination_ip": ["Enter a valid IPv4 or IPv6 address."]}
    assert Event.objects.count() == 1


def test_retried_batch_counts_duplicates_and_does_not_rerun_rules(post):
    batch = [event(id=str(uuid.uuid4()), timestamp=f"2026-01-01T00:00:0{i}Z") for i in range(6)]

    first = post(batch)
    again = post(batch)

    assert first.json()["accepted"] == 6
    assert len(first.json()["alerts"]) == 1  # the shipped brute-force rule: 5 in 60 s
    assert again.json() == {"accepted": 0, "duplicates": 6, "alerts": []}
    assert Event.objects.count() == 6
    assert Alert.objects.get().event_count == 6


def test_a_batch_partly_stored_runs_its_rules_over_its_new_events_only(post):
    """Rules run over a batch before it is stored; its duplicates must then drop out."""
    create_rule(name="Per host", severity="medium", group_by=["source"],
                condition={"field": "event_type", "op": "eq", "value": "proc.start"})  # fmt: skip

    def start(host, second):
        return event(id=str(uuid.uuid4()), event_type="proc.start", source=host,
                     timestamp=f"2026-01-01T00:00:0{second}Z")  # fmt: skip

    a1, a2, a3, b1, b2 = start("a", 1), start("a", 2), start("a", 3), start("b", 4), start("b", 5)
    post([a1, a2])

    body = post([a1, b1, a2, b2, a3]).json()

    assert (body["accepted"], body["duplicates"]) == (3, 2)
    by_host = {alert.group["source"]: alert for alert in Alert.objects.all()}
    assert set(body["alerts"]) == {by_host["a"].pk, by_host["b"].pk}
    for host, expected in (("a", [a1, a2, a3]), ("b", [b1, b2])):
        linked = Event.objects.filter(alerts=by_host[host])
        assert {str(e.pk) for e in linked} == {e["id"] for e in expected}
        assert by_host[host].event_count == len(expected)


def test_each_new_alert_of_a_batch_gets_its_own_events(post):
    """Alerts are written in bulk and their ids handed back: each id must be its own row's."""
    create_rule(name="Per host", severity="medium", group_by=["source"],
                condition={"field": "event_type", "op": "eq", "value": "proc.start"})  # fmt: skip
    batch = [
        event(event_type="proc.start", source=f"host-{n}", timestamp=f"2026-01-01T00:00:0{k}Z")
        for n in range(6)
        for k in range(n + 1)
    ]

    body = post(batch[::-1]).json()

    alerts = Alert.objects.filter(pk__in=body["alerts"])
    assert len(alerts) == 6
    for alert in alerts:
        host = alert.group["source"]
        linked = Event.objects.filter(alerts=alert)
        assert {e.source for e in linked} == {host}
        assert alert.event_count == len(linked) == int(host.removeprefix("host-")) + 1
        assert alert.title == f"Per host: {host}"


def test_same_id_twice_in_one_batch_is_stored_once(post):
    event_id = str(uuid.uuid4())

    response = post([event(id=event_id), event(id=event_id)])

    assert response.json()["accepted"] == 1
    assert response.json()["duplicates"] == 1
    assert Event.objects.get().source == "fw-1"


def test_same_id_twice_in_a_large_batch_is_stored_once(post):
    # Large enough for the bulk paths (bulk_insert.MIN_BULK_ROWS).
    batch = [event(id=str(uuid.uuid4()), source=f"s-{i}") for i in range(100)]
    batch[70] = batch[10]

    response = post(batch)

    assert response.json()["accepted"] == 99
    assert response.json()["duplicates"] == 1
    assert Event.objects.get(pk=batch[10]["id"]).source == "s-10"


def test_same_id_with_other_content_in_a_large_batch_refuses_the_batch(post):
    stored = event(id=str(uuid.uuid4()), timestamp="2026-12-01T00:00:00Z")
    post(stored)
    batch = [event(id=str(uuid.uuid4()), source=f"s-{i}") for i in range(100)]
    batch[70] = batch[10] | {"source": "the second copy"}
    batch[80] = stored | {"timestamp": "2026-12-01T00:00:01Z"}
    batch[90] = stored  # the same content: not a conflict

    response = post(batch)

    assert response.status_code == 400
    assert response.json()["code"] == "id_conflict"
    assert list(response.json()["errors"]) == ["70", "80"]
    assert Event.objects.count() == 1


def test_retried_single_event_answers_200_with_the_stored_event(post):
    body = event(id=str(uuid.uuid4()))
    created = post(body).json()

    response = post(body)

    assert response.status_code == 200
    assert response.json() == created | {"alerts": []}
    assert Event.objects.count() == 1


def test_single_event_with_a_taken_id_and_other_content_is_a_conflict(post):
    body = event(id=str(uuid.uuid4()))
    post(body)

    response = post(body | {"source": "changed"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Conflicting event ids: nothing was stored.",
        "code": "id_conflict",
        "errors": {
            "0": {
                "id": [
                    "id_conflict: an event with this id and different content is already stored."
                ]
            }
        },
    }
    assert Event.objects.get().source == "fw-1"


def test_naive_and_offset_timestamps_are_stored_in_utc(post):
    naive = post(event(timestamp="2026-05-01T10:00:00")).json()
    offset = post(event(timestamp="2026-05-01T10:00:00-04:00")).json()

    assert naive["timestamp"] == "2026-05-01T10:00:00Z"
    assert offset["timestamp"] == "2026-05-01T14:00:00Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "x"}, "event_type"),
        ({"event_type": "auth.failure"}, "source"),
        (event(event_type="Auth Failure"), "event_type"),
        (event(event_type="a" * 101), "event_type"),
        (event(severity="urgent"), "severity"),
        (event(destination_port=70000), "destination_port"),
        (event(destination_port="22"), "destination_port"),
        (event(destination_port=True), "destination_port"),
        (event(source_ip="999.1.1.1"), "source_ip"),
        (event(destination_ip=12), "destination_ip"),
        (event(id="not-a-uuid"), "id"),
        (event(timestamp="yesterday"), "timestamp"),
        (event(source="x" * 256), "source"),
        (event(username="x" * 256), "username"),
        (event(message="x" * 10_001), "message"),
        (event(data=[1, 2]), "data"),
        (event(data={"blob": "x" * 70_000}), "data"),
        (event(data={"a": "nul\u0000byte"}), "data"),
        (event(source="nul\u0000byte"), "source"),
        (event(unexpected="field"), "unexpected"),
    ],
)
def test_invalid_single_event_gets_400_naming_the_field(post, body, field):
    response = post(body)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Event.objects.count() == 0


def nested(levels: int) -> dict[str, object]:
    """`data` nesting objects and lists `levels` deep, itself the first level."""
    if levels == 1:
        return {}
    inner: object = {}
    for level in range(levels - 1, 1, -1):
        inner = {"a": inner} if level % 2 else [inner]
    return {"a": inner}


def test_data_nesting_is_limited_to_32_levels(post):
    assert post(event(data=nested(32))).status_code == 201
    assert post(event(data={"k": "[[[[{{{{" * 10, "l": [[[1]]]})).status_code == 201

    response = post(event(data=nested(33)))

    assert response.status_code == 400
    assert "data" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"event_type": "a", ', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b'{"event_type": "a", "source": "\\ud800"}', "application/json", 400),
        (b"[]", "application/json", 400),
        (b"42", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"event_type": "a", "source": "b"}', "text/plain", 415),
        (b'{"event_type": "a", "source": "b"}', "application/xml", 415),
        (b'{"event_type": "a", "source": "b"}\nnot json\n', "application/x-ndjson", 400),
        (b"[" + b"[" * 5000 + b"]" * 5001, "application/json", 400),
    ],
)
def test_malformed_bodies_get_a_json_4xx(post, body, content_type, status):
    response = post(body, content_type=content_type, raw=True)

    assert response.status_code == status, response.content
    assert "detail" in response.json()
    assert Event.objects.count() == 0


def test_batch_over_the_limit_gets_413(post, settings):
    settings.EVENTS_MAX_BATCH = 3

    response = post([event()] * 4)

    assert response.status_code == 413
    assert Event.objects.count() == 0


def test_oversize_body_gets_413(post, settings):
    settings.EVENTS_MAX_BODY_BYTES = 1000

    response = post([event(message="x" * 600), event(message="y" * 600)])

    assert response.status_code == 413
    assert Event.objects.count() == 0
