"""`manage.py prune` in its own process, and pruning while a real server ingests."""

import json
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from secalerts.alerts.models import Alert, AlertStatus
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.events.models import Event
from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events
from secalerts.jobs import retention
from tests.e2e import conftest as e2e
from tests.waiting import wait_until

DAY = timedelta(days=1)


def store_old_events(count: int, age: timedelta) -> None:
    now = timezone.now()
    items = [
        {"event_type": "old", "source": "s", "timestamp": (now - age).isoformat()}
        for _ in range(count)
    ]
    for start in range(0, count, 1000):
        body = json.dumps(items[start : start + 1000]).encode()
        events = validate_events(
            body, "application/json", max_batch=1000, max_bytes=10**8, now=now
        )[0]
        ingest_events(events=events)


def manage_prune(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "prune", *options],
        cwd=settings.BASE_DIR,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
            "DATABASE_URL": e2e.test_database_url(),
            "LOG_LEVEL": "WARNING",
            "EVENTS_RETENTION_DAYS": "30",
            "CLOSED_ALERTS_RETENTION_DAYS": "60",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_py_prune_dry_run_then_for_real(transactional_db):
    store_old_events(5, 31 * DAY)
    store_old_events(2, 29 * DAY)
    old_alert = AlertFactory(status=AlertStatus.RESOLVED, updated_at=timezone.now() - 61 * DAY)
    kept_alert = AlertFactory(status=AlertStatus.OPEN, updated_at=timezone.now() - 61 * DAY)

    dry = manage_prune("--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dry_run"] is True
    assert (json.loads(dry.stdout)["events"], json.loads(dry.stdout)["closed_alerts"]) == (5, 1)
    assert (Event.objects.count(), Alert.objects.count()) == (7, 2)

    done = manage_prune("--chunk-size", "2")

    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["events"], json.loads(done.stdout)["closed_alerts"]) == (5, 1)
    assert Event.objects.count() == 2
    assert list(Alert.objects.values_list("pk", flat=True)) == [kept_alert.pk]
    assert not Alert.objects.filter(pk=old_alert.pk).exists()


def test_prune_in_chunks_while_a_server_ingests_loses_nothing_new(
    start_daphne, analyst_user, bearer
):
    base = start_daphne()
    header = bearer(analyst_user)
    stop, pruning, done_pruning = threading.Event(), threading.Event(), threading.Event()
    sent: list[str] = []
    during: list[str] = []
    failures: list[object] = []

    def ingest() -> None:
        while not stop.is_set():
            batch = [
                {"id": str(uuid.uuid4()), "event_type": "new", "source": "s"} for _ in range(20)
            ]
            request = urllib.request.Request(
                f"{base}/api/events/",
                data=json.dumps(batch).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": header},
            )
            started_while_pruning = pruning.is_set() and not done_pruning.is_set()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = json.loads(response.read())
            except Exception as error:  # reported to the test thread
                failures.append(error)
                return
            if body.get("accepted") != len(batch):
                failures.append(body)
            ids = [item["id"] for item in batch]
            sent.extend(ids)
            if started_while_pruning and not done_pruning.is_set():
                during.extend(ids)

    thread = threading.Thread(target=ingest)
    thread.start()
    pruned = stored = 0
    try:
        wait_until(lambda: sent or failures, what="the first batch")
        # Until a batch has been ingested while a prune ran (on a fast machine one prune
        # may come and go between two batches), a few rounds at most.
        for _ in range(10):
            store_old_events(2000, 100 * DAY)
            stored += 2000
            pruning.set()
            done_pruning.clear()
            result = retention.prune(
                now=timezone.now(), events_days=90, closed_alerts_days=365, chunk_size=50
            )
            done_pruning.set()
            pruned += result["events"]
            if during:
                break
    finally:
        stop.set()
        thread.join(timeout=60)

    assert not failures, failures
    assert pruned == stored
    assert during, "no batch was ingested while the prune ran"
    assert not Event.objects.filter(event_type="old").exists()
    assert set(map(str, Event.objects.values_list("id", flat=True))) == set(sent)
