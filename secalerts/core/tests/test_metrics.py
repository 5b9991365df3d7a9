"""GET /metrics counts what the ingest paths, the alerts and the stream did; /livez, /readyz."""

import json
import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.core import metrics
from secalerts.core.slow_clients import SendBacklog
from secalerts.ingest.writer import Request, write_group
from secalerts.intake.direct import read_syslog
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule
from security_backend.asgi import application

# Not an event type the default rules watch.
GOOD = {"event_type": "vpn.login_failed", "source": "vpn", "source_ip": "192.0.2.50"}


def scrape(client, **headers) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get(reverse("metrics"), **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def ingested(samples: dict, path: str) -> dict[str, float]:
    return {
        result: value(samples, "secalerts_events_ingested_total", path=path, result=result)
        for result in ("accepted", "duplicate", "rejected")
    }


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after}


def events(count: int) -> list[dict]:
    return [GOOD | {"id": str(uuid.uuid4())} for _ in range(count)]


def test_http_ingest_counts_each_event_once_by_result(client, api_client, analyst_user, bearer):
    auth = {"HTTP_AUTHORIZATION": bearer(analyst_user)}
    batch = events(3)
    before = ingested(scrape(client), "http")

    assert api_client.post("/api/events/", batch, format="json", **auth).status_code == 201
    retry = api_client.post("/api/events/", [*batch, *events(1)], format="json", **auth)
    invalid = api_client.post(
        "/api/events/", [*events(4), {"event_type": "no source"}], format="json", **auth
    )
    conflict = api_client.post(
        "/api/events/", [batch[0] | {"source": "other"}, *events(1)], format="json", **auth
    )
    malformed = api_client.post("/api/events/", b"[{", content_type="application/json", **auth)
    after = ingested(scrape(client), "http")

    assert retry.json()["duplicates"] == 3
    assert [invalid.status_code, conflict.status_code, malformed.status_code] == [400] * 3
    # 3 + 4 accepted; 3 retried; 5 + 2 refused in batches, 1 unreadable body.
    assert delta(before, after) == {"accepted": 4.0, "duplicate": 3.0, "rejected": 8.0}


def test_intake_counts_under_its_own_path(client, api_client, analyst_user, bearer):
    auth = {"HTTP_AUTHORIZATION": bearer(analyst_user)}
    lines = "\n".join(
        f"<38>Mar  1 10:00:0{i} web sshd[1]: line {i} {uuid.uuid4()}" for i in range(3)
    )
    before = {path: ingested(scrape(client), path) for path in ("http", "intake")}

    first = api_client.post("/api/intake/syslog/", lines, content_type="text/plain", **auth)
    again = api_client.post("/api/intake/syslog/", lines, content_type="text/plain", **auth)
    refused = api_client.post(
        "/api/intake/ecs/", [{"@timestamp": "yesterday"}, {}], format="json", **auth
    )
    after = {path: ingested(scrape(client), path) for path in ("http", "intake")}

    assert [first.status_code, again.status_code, refused.status_code] == [201, 201, 400]
    assert delta(before["intake"], after["intake"]) == {
        "accepted": 3.0,
        "duplicate": 3.0,
        "rejected": 2.0,
    }
    assert delta(before["http"], after["http"]) == {"accepted": 0, "duplicate": 0, "rejected": 0}


def test_grouped_requests_count_each_requests_events_once(transactional_db, analyst_user, bearer):
    headers = {
        b"content-type": b"application/json",
        b"authorization": bearer(analyst_user).encode(),
    }
    stored = events(2)
    write_group([Request(headers, json.dumps(stored).encode())])
    text = {**headers, b"content-type": b"text/plain"}
    before = {
        path: ingested(parse(metrics.exposition().decode()), path) for path in ("http", "intake")
    }

    outcomes = write_group(
        [
            Request(headers, json.dumps([*stored, *events(3)]).encode()),
            Request(headers, json.dumps([*events(2), {"source": "x"}]).encode()),
            Request(headers, json.dumps([stored[0] | {"source": "changed"}]).encode()),
            Request(text, b"sshd[1]: one\nsshd[1]: two\n", read_syslog, metrics.INTAKE),
            Request({}, json.dumps(events(5)).encode()),  # no credentials: not counted
        ]
    )
    after = {
        path: ingested(parse(metrics.exposition().decode()), path) for path in ("http", "intake")
    }

    assert [outcome.status for outcome in outcomes] == [201, 400, 400, 201, 401]
    assert delta(before["http"], after["http"]) == {
        "accepted": 3.0,
        "duplicate": 2.0,
        "rejected": 4.0,
    }
    assert delta(before["intake"], after["intake"])["accepted"] == 2.0


def test_ingest_batches_are_timed(client, api_client, analyst_user, bearer):
    before = value(scrape(client), "secalerts_ingest_batch_seconds_count")

    api_client.post(
        "/api/events/", events(2), format="json", HTTP_AUTHORIZATION=bearer(analyst_user)
    )
    samples = scrape(client)

    assert value(samples, "secalerts_ingest_batch_seconds_count") == before + 1
    assert value(samples, "secalerts_ingest_batch_seconds_sum") > 0


def test_alerts_are_counted_by_severity_with_their_lag_once_committed(
    client, api_client, analyst_user, bearer, django_capture_on_commit_callbacks
):
    create_rule(
        name="VPN failure",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "vpn.login_failed"},
        group_by=["source_ip"],
    )
    ten_minutes_ago = (timezone.now() - timedelta(minutes=10)).isoformat()
    batch = [
        GOOD | {"id": str(uuid.uuid4()), "source_ip": f"192.0.2.{n}", "timestamp": ten_minutes_ago}
        for n in (1, 2)
    ]
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=False) as pending:
        response = api_client.post(
            "/api/events/", batch, format="json", HTTP_AUTHORIZATION=bearer(analyst_user)
        )
    uncommitted = scrape(client)
    for callback in pending:
        callback()
    after = scrape(client)

    assert len(response.json()["alerts"]) == 2
    raised = "secalerts_alerts_raised_total"
    assert value(uncommitted, raised, severity="high") == value(before, raised, severity="high")
    assert value(after, raised, severity="high") == value(before, raised, severity="high") + 2
    lag = "secalerts_detection_lag_seconds"
    assert value(after, f"{lag}_count") == value(before, f"{lag}_count") + 2
    assert value(after, f"{lag}_sum") - value(before, f"{lag}_sum") >= 2 * 600
    # Both lie past 300 s and within 900 s.
    assert value(after, f"{lag}_bucket", le="300.0") == value(before, f"{lag}_bucket", le="300.0")
    assert (
        value(after, f"{lag}_bucket", le="900.0") == value(before, f"{lag}_bucket", le="900.0") + 2
    )


def test_rules_loaded_is_the_count_of_enabled_rules(client, api_client, analyst_user, bearer):
    create_rule(
        name="Enabled", severity="low", condition={"field": "source", "op": "eq", "value": "x"}
    )

    api_client.post(
        "/api/events/", events(1), format="json", HTTP_AUTHORIZATION=bearer(analyst_user)
    )

    expected = Rule.objects.filter(enabled=True).count()
    assert value(scrape(client), "secalerts_rules_loaded") == expected


@pytest.mark.django_db(transaction=True)
async def test_stream_clients_and_pushes_are_counted(analyst_user):
    def current() -> dict:
        return parse(metrics.exposition().decode())

    token = await database_sync_to_async(lambda: str(AccessToken.for_user(analyst_user)))()
    before = current()
    communicators = [
        WebsocketCommunicator(application, f"/ws/alerts/?token={token}") for _ in range(2)
    ]
    for communicator in communicators:
        assert (await communicator.connect())[0]
    await communicators[1].send_json_to({"type": "subscribe", "severity_min": "critical"})
    await communicators[1].receive_json_from(timeout=2)
    connected = current()
    alert = await database_sync_to_async(AlertFactory)(severity="low")

    await database_sync_to_async(notify_alerts)(created=(alert.pk,), updated=())
    await communicators[0].receive_json_from(timeout=3)
    for communicator in communicators:
        await communicator.disconnect()
    after = current()

    clients, pushes = "secalerts_stream_clients", "secalerts_stream_pushes_total"
    assert value(connected, clients) == value(before, clients) + 2
    assert value(after, clients) == value(before, clients)
    # The critical-only client was not sent the low alert.
    assert value(after, pushes) == value(before, pushes) + 1


class _Protocol:
    """What SendBacklog touches of Daphne's protocol (no socket: closing is the point)."""

    client_addr = ("192.0.2.9", 40000)
    transport = None
    closed_with: int | None = None

    def sendClose(self, code: int) -> None:  # noqa: N802 - Autobahn's interface
        self.closed_with = code

    def dropConnection(self, abort: bool) -> None:  # noqa: N802 - Autobahn's interface
        pass


def test_clients_closed_as_too_slow_are_counted(client, settings):
    settings.STREAM_MAX_BEHIND_MESSAGES = 2
    backlog = SendBacklog(_Protocol())  # type: ignore[arg-type]
    backlog.counting = True  # as when the send buffer passed its high-water mark
    before = value(scrape(client), "secalerts_stream_closed_too_slow_total")

    sent = [backlog.may_send() for _ in range(3)]

    assert sent == [True, False, False]
    assert backlog.protocol.closed_with == 4408
    assert value(scrape(client), "secalerts_stream_closed_too_slow_total") == before + 1


def test_notification_metrics_are_exposed(client, db):
    before = scrape(client)

    metrics.count_deliveries("sent")
    metrics.set_notification_queue_depth(7)
    after = scrape(client)

    deliveries = "secalerts_notification_deliveries_total"
    assert value(after, deliveries, result="sent") == (value(before, deliveries, result="sent") + 1)
    assert value(after, "secalerts_notification_queue_depth") == 7


def test_metrics_token_is_required_when_set(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"

    missing = client.get(reverse("metrics"))
    wrong = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret-scrape-tokeX")
    basic = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Basic s3cret-scrape-token")
    right = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

    assert [missing.status_code, wrong.status_code, basic.status_code] == [401] * 3
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["code"] == "not_authenticated"
    assert right.status_code == 200
    assert b"secalerts_events_ingested" in right.content


def test_metrics_disabled_count_nothing_and_answer_404(
    client, api_client, analyst_user, bearer, settings
):
    before = ingested(scrape(client), "http")
    settings.METRICS_ENABLED = False

    api_client.post(
        "/api/events/", events(2), format="json", HTTP_AUTHORIZATION=bearer(analyst_user)
    )
    disabled = client.get(reverse("metrics"))
    settings.METRICS_ENABLED = True

    assert disabled.status_code == 404
    assert ingested(scrape(client), "http") == before


def _broken_cursor(*args, **kwargs):
    raise OperationalError("connection refused")


def test_livez_answers_without_the_database(client, db, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("secalerts.core.health.connection.cursor", _broken_cursor)
        response = client.get(reverse("livez"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_what_failed(client, db, monkeypatch):
    assert client.get(reverse("readyz")).json() == {
        "status": "ok",
        "database": "ok",
        "channel_layer": "ok",
    }
    with monkeypatch.context() as patch:
        patch.setattr("secalerts.core.health.connection.cursor", _broken_cursor)
        response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "channel_layer": "ok",
    }
