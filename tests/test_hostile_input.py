"""Every write endpoint answers hostile bodies with a 4xx JSON error and stores nothing."""

import pytest
from django.conf import settings
from django.urls import reverse

from secalerts.alerts.models import Alert, AlertHistory
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.events.models import Event
from secalerts.rules.models import Rule


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
