"""SQLite: every transaction takes its turn on a file lock beside the database, which
another worker process may hold; waiting past the database's busy timeout is a 503."""

import fcntl
import json
import os
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from secalerts.alerts.models import Alert
from secalerts.alerts.services.triage import change_alert
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.core.sqlite import write_lock
from secalerts.core.sqlite.write_lock import lock_path
from secalerts.events.models import Event
from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events
from secalerts.rules.models import Rule

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite only: other databases take no file lock"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def hold_lock():
    """Takes the lock as another worker process would: with its own open file."""
    descriptors = []

    def hold():
        descriptor = os.open(lock_path(connection.settings_dict), os.O_RDWR | os.O_CREAT)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        descriptors.append(descriptor)
        return descriptor

    yield hold
    for descriptor in descriptors:
        os.close(descriptor)


def events(count):
    body = json.dumps([{"event_type": "auth.failure", "source": "fw-1"}] * count).encode()
    return validate_events(
        body, "application/json", max_batch=1000, max_bytes=10**6, now=timezone.now()
    )[0]


def in_thread(work):
    outcome = []

    def run():
        try:
            outcome.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_an_ingest_waits_for_the_lock_then_writes(hold_lock):
    held = hold_lock()
    writer, outcome = in_thread(lambda: len(ingest_events(events=events(3)).stored_ids))
    writer.join(timeout=0.5)
    assert writer.is_alive()  # waiting: nothing can be written while the lock is held
    assert Event.objects.count() == 0

    fcntl.flock(held, fcntl.LOCK_UN)
    writer.join(timeout=10)

    assert outcome == [3]
    assert Event.objects.count() == 3


def test_a_triage_change_waits_its_turn_too(hold_lock, admin_user):
    """Under ingest load a triage write took SQLite's busy handler, which sleeps ever
    longer between tries while the workers' batches take turns on the file lock."""
    alert = AlertFactory()
    held = hold_lock()
    analyst, outcome = in_thread(
        lambda: change_alert(alert_id=alert.pk, actor=admin_user, status="resolved")
    )
    analyst.join(timeout=0.5)
    assert analyst.is_alive()
    alert.refresh_from_db()
    assert alert.status == "open"

    fcntl.flock(held, fcntl.LOCK_UN)
    analyst.join(timeout=10)

    assert [changed.status for changed in outcome] == ["resolved"]


@pytest.mark.parametrize("write", ["ingest", "triage", "rule"])
def test_waiting_past_the_busy_timeout_answers_503(
    write, hold_lock, api_client, admin_user, bearer, monkeypatch
):
    alert = AlertFactory()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    requests = {
        "ingest": ("post", "/api/events/", [{"event_type": "auth.failure", "source": "fw-1"}]),
        "triage": ("patch", f"/api/alerts/{alert.pk}/", {"status": "acknowledged"}),
        "rule": (
            "post",
            "/api/rules/",
            {
                "name": "r",
                "severity": "low",
                "condition": {"field": "username", "op": "exists", "value": True},
            },
        ),
    }
    method, path, body = requests[write]
    hold_lock()

    response = getattr(api_client, method)(
        path, body, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 503, response.json()
    assert "Retry-After" in response.headers
    assert Event.objects.count() == 0
    assert Alert.objects.get().status == "open"
    assert not Rule.objects.filter(name="r").exists()


def test_two_databases_of_one_process_do_not_share_a_turn(tmp_path):
    """A transaction on one SQLite database may open one on another in the same thread."""
    first, second = ({"NAME": str(tmp_path / name), "OPTIONS": {"timeout": 0.2}} for name in "ab")

    write_lock.acquire(first)
    write_lock.acquire(second)  # before: the one thread lock of the process, 503 here

    write_lock.release(second)
    write_lock.release(first)
