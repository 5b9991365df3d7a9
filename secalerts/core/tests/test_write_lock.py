"""SQLite: ingest and triage transactions take turns on a file lock beside the database,
which another process may hold; waiting past the database's busy timeout is a 503."""

import fcntl
import json
import os
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from secalerts.alerts.services.triage import change_alert
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.core.write_lock import lock_path
from secalerts.events.models import Event
from secalerts.events.services import ingest_events
from secalerts.events.validation import validate_events

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only: other databases take no file lock"
)


@pytest.fixture
def held_lock():
    """The lock taken as another worker process would: its own open file."""
    descriptor = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    yield descriptor
    os.close(descriptor)


def events(count):
    body = json.dumps([{"event_type": "auth.failure", "source": "fw-1"}] * count).encode()
    return validate_events(
        body, "application/json", max_batch=1000, max_bytes=10**6, now=timezone.now()
    )[0]


@pytest.mark.django_db(transaction=True)
def test_an_ingest_waits_for_the_lock_then_writes(held_lock):
    outcome = []

    def ingest():
        try:
            outcome.append(len(ingest_events(events=events(3)).stored_ids))
        finally:
            connections.close_all()

    writer = threading.Thread(target=ingest)
    writer.start()
    writer.join(timeout=0.5)
    assert writer.is_alive()  # waiting: nothing can be written while the lock is held
    assert Event.objects.count() == 0

    fcntl.flock(held_lock, fcntl.LOCK_UN)
    writer.join(timeout=10)

    assert outcome == [3]
    assert Event.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_waiting_past_the_busy_timeout_answers_503(
    held_lock, api_client, analyst_user, bearer, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)

    response = api_client.post(
        "/api/events/",
        json.dumps([{"event_type": "auth.failure", "source": "fw-1"}]),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(analyst_user),
    )

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_triage_change_waits_its_turn_too(held_lock, admin_user):
    """Under ingest load a triage write took SQLite's busy handler, which sleeps ever
    longer between tries while the workers' batches take turns on the file lock."""
    alert = AlertFactory()
    outcome = []

    def triage():
        try:
            outcome.append(change_alert(alert_id=alert.pk, actor=admin_user, status="resolved"))
        finally:
            connections.close_all()

    analyst = threading.Thread(target=triage)
    analyst.start()
    analyst.join(timeout=0.5)
    assert analyst.is_alive()
    alert.refresh_from_db()
    assert alert.status == "open"

    fcntl.flock(held_lock, fcntl.LOCK_UN)
    analyst.join(timeout=10)

    assert [changed.status for changed in outcome] == ["resolved"]


@pytest.mark.django_db(transaction=True)
def test_a_triage_change_past_the_busy_timeout_answers_503(
    held_lock, api_client, admin_user, bearer, monkeypatch
):
    alert = AlertFactory()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)

    response = api_client.patch(
        f"/api/alerts/{alert.pk}/",
        {"status": "acknowledged"},
        format="json",
        HTTP_AUTHORIZATION=bearer(admin_user),
    )

    assert response.status_code == 503
    alert.refresh_from_db()
    assert alert.status == "open"
