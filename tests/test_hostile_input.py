"""Every write endpoint answers hostile bodies with a 4xx JSON error and stores nothing."""

import base64
import json
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from secalerts.alerts.models import Alert, AlertHistory
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.events.models import Event
from secalerts.events.tests import asgi_client as ingest
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule


def snapshot() -> tuple:
    return (
        Event.objects.count(),
        list(Rule.objects.order_by("pk").values()),
        list(Alert.objects.order_by("pk").values("status", "assigned_to_id")),
        AlertHistory.objects.count(),
    )


WRITES = [
    ("post", lambda alert: reverse("accounts:token")),
    ("post", lambda alert: reverse("accounts:token-refresh")),
    ("post", lambda alert: reverse("accounts:token-blacklist")),
    ("post", lambda alert: reverse("events:list")),
    ("post", lambda alert: reverse("rules:list")),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id])),
    ("patch", lambda alert: reverse("alerts:list")),
    ("patch", lambda alert: reverse("alerts:detail", args=[alert.pk])),
]

DEEP = b"[" * 100_000 + b"]" * 100_000
BODIES = [
    ("deep nesting", DEEP, "application/json"),
    ("deep object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    ("nul bytes", b'{"name": "a\\u0000b", "event_type": "a\\u0000", "source": "\\u0000", "status": "open\\u0000"}', "application/json"),
    ("raw nul", b'{"name": "a\x00b"}', "application/json"),
    ("invalid utf-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("lone surrogate", b'{"name": "\\udc80", "username": "\\ud800"}', "application/json"),
    ("wrong content type", b'{"status": "resolved"}', "application/xml"),
    ("form data", b"status=resolved", "application/x-www-form-urlencoded"),
    ("malformed", b'{"status": ', "application/json"),
    ("not an object", b'"just a string"', "application/json"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url"), WRITES, ids=[f"{m} {i}" for i, (m, _) in enumerate(WRITES)]
)
@pytest.mark.parametrize(("name", "body", "content_type"), BODIES, ids=[b[0] for b in BODIES])
def test_hostile_bodies_get_a_json_4xx(
    api_client, admin_user, bearer, method, url, name, body, content_type
):
    alert = AlertFactory()
    before = snapshot()

    response = getattr(api_client, method)(
        url(alert), body, content_type=content_type, HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "url"), WRITES, ids=[f"{m} {i}" for i, (m, _) in enumerate(WRITES)]
)
def test_oversize_bodies_get_413(api_client, admin_user, bearer, method, url):
    alert = AlertFactory()
    before = snapshot()
    body = b'{"pad": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'

    response = getattr(api_client, method)(
        url(alert), body, content_type="application/json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert snapshot() == before


def test_a_catastrophic_regex_rule_cannot_stall_ingest(api_client, admin_user, bearer, hang_guard):
    """`^(a+)+$` takes a backtracking engine exponential time on a's followed by "!"."""
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    condition = {"field": "message", "op": "regex", "value": "^(a+)+$"}
    rule = api_client.post(
        reverse("rules:list"),
        {"name": "Nested quantifiers", "severity": "high", "condition": condition},
        format="json",
        **auth,
    )
    events = [
        {"event_type": "app.log", "source": "web-1", "message": "a" * 40 + "!"},
        {"event_type": "app.log", "source": "web-1", "message": "a" * 40},
    ]

    with hang_guard(60):
        response = api_client.post(reverse("events:list"), events, format="json", **auth)

    assert rule.status_code == 201, rule.content
    assert response.status_code == 201, response.content
    alerts = Alert.objects.filter(rule_id=rule.json()["id"])
    assert [alert.events.get().message for alert in alerts] == ["a" * 40]


# Hostile values inside well-formed bodies and query strings, from an attack review.
# Ingestion goes through the ASGI application (its direct path), as a server calls it.

HOSTILE_ITEMS = [
    ("year 9999", {"timestamp": "9999-12-31T23:59:59Z"}, "timestamp"),
    ("year 1", {"timestamp": "0001-01-01T00:00:00Z"}, "timestamp"),
    ("year 1 east of UTC", {"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp"),
    ("before 1970", {"timestamp": "1969-12-31T23:59:59Z"}, "timestamp"),
    ("after 2100", {"timestamp": "2100-01-01T00:00:01Z"}, "timestamp"),
    ("newline after the type", {"event_type": "auth.failure\n"}, "event_type"),
    ("scoped source address", {"source_ip": "fe80::1%eth0"}, "source_ip"),
    ("scoped destination address", {"destination_ip": "fe80::1%eth0"}, "destination_ip"),
]


@pytest.fixture
def brute_force_rule(transactional_db):
    return create_rule(
        name="Hostile brute force",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
        group_by=["source_ip"],
        threshold={"count": 2, "window_seconds": 60},
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("name", "change", "field"), HOSTILE_ITEMS, ids=[h[0] for h in HOSTILE_ITEMS]
)
def test_hostile_event_values_are_an_invalid_item(
    analyst_user, bearer, brute_force_rule, name, change, field
):
    good = {"event_type": "auth.failure", "source": "fw", "source_ip": "198.51.100.1"}
    batch = [good | {"timestamp": "2026-12-01T00:00:01Z"}, good | change]

    status, body = ingest.post_events(batch, bearer(analyst_user))

    assert status == 400
    assert body["errors"] == {"1": {field: body["errors"]["1"][field]}}
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_id_cannot_be_claimed_ahead_of_its_event(analyst_user, bearer):
    create_rule(
        name="Hostile malware",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
    )
    token = bearer(analyst_user)
    claimed = str(uuid.uuid4())
    ingest.post_events({"id": claimed, "event_type": "heartbeat", "source": "edr"}, token)

    status, body = ingest.post_events(
        [{"id": claimed, "event_type": "malware.detected", "source": "edr"}], token
    )

    assert (status, body["code"]) == (400, "id_conflict")
    assert list(body["errors"]) == ["0"]
    assert Event.objects.get().event_type == "heartbeat"
    assert not Alert.objects.exists()


def cursor_of(position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


HOSTILE_QUERIES = [
    ("alerts", {"cursor": cursor_of({"v": "0001-01-01T00:00:00+14:00", "i": 1})}),
    ("alerts", {"cursor": cursor_of({"v": "2026-01-01T00:00:00Z", "i": 2**64})}),
    ("events", {"cursor": cursor_of({"v": "0001-01-01T00:00:00+14:00", "i": 1})}),
    ("events", {"cursor": base64.b64encode(b"p=0001-01-01T00%3A00%3A00%2B14%3A00").decode()}),
    ("alerts", {"page_size": "501"}),
    ("events", {"page_size": "501"}),
    ("alerts", {"ordering": ""}),
    ("alerts", {"created_before": ""}),
    ("events", {"until": ""}),
    ("events", {"since": "0001-01-01T00:00:00+14:00"}),
    ("events", {"until": "9999-12-31T23:59:59-14:00"}),
    ("alerts", {"created_after": "0001-01-01T00:00:00+14:00"}),
    ("alerts", {"created_before": "9999-12-31T23:59:59-14:00"}),
]


@pytest.mark.parametrize(("resource", "params"), HOSTILE_QUERIES)
def test_hostile_list_queries_get_a_json_400(api_client, analyst_user, bearer, resource, params):
    AlertFactory()

    response = api_client.get(
        reverse(f"{resource}:list"), params, HTTP_AUTHORIZATION=bearer(analyst_user)
    )

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "params",
    [
        {"since": "0001-01-01T00:00:00Z"},
        {"until": "9999-12-31T23:59:59Z"},
        {"since": "0001-01-01"},
        {"until": "9999-12-31T23:59:59.999999"},
    ],
)
def test_absurd_but_valid_dates_in_filters_are_answered(api_client, analyst_user, bearer, params):
    response = api_client.get(
        reverse("events:list"), params, HTTP_AUTHORIZATION=bearer(analyst_user)
    )

    assert response.status_code == 200


WRONG_TYPES = [
    ("patch", lambda alert: reverse("alerts:list"), {"ids": [1], "status": "open", "note": 0}),
    ("patch", lambda alert: reverse("alerts:list"), {"ids": ["1"], "status": "open"}),
    ("patch", lambda alert: reverse("alerts:list"), {"ids": [1.0], "status": "open"}),
    ("patch", lambda alert: reverse("alerts:detail", args=[alert.pk]), {"note": 12}),
    ("patch", lambda alert: reverse("alerts:detail", args=[alert.pk]), {"assigned_to": 7}),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id]), {"name": 5}),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id]), {"enabled": "no"}),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id]), {"enabled": 0}),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id]), {"dedup_window_seconds": "60"}),
    ("patch", lambda alert: reverse("rules:detail", args=[alert.rule_id]), {"group_by": [1]}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body"), WRONG_TYPES)
def test_values_of_another_json_type_are_refused_not_coerced(
    api_client, admin_user, bearer, method, url, body
):
    alert = AlertFactory()
    before = snapshot()

    response = getattr(api_client, method)(
        url(alert), body, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 400, response.content[:300]
    assert snapshot() == before
