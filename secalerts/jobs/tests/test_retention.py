"""Retention: `prune` removes exactly what is past its time, in chunks, and nothing else."""

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from secalerts.alerts.models import Alert, AlertEvent, AlertHistory, AlertStatus
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.events.models import Event, EventId
from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events
from secalerts.jobs import retention, table

NOW = timezone.now()
DAY = timedelta(days=1)


def ingest(*ages: timedelta) -> list[uuid.UUID]:
    """Events that happened `age` before NOW, through the ingest path; their ids."""
    items = [
        {"event_type": "auth.failure", "source": "vpn", "timestamp": (NOW - age).isoformat()}
        for age in ages
    ]
    body = json.dumps(items).encode()
    events = validate_events(body, "application/json", max_batch=1000, max_bytes=10**7, now=NOW)[0]
    ingest_events(events=events)
    return [event["id"] for event in events]


def alert(status: str, *, changed: timedelta, events: Sequence[uuid.UUID] = ()) -> Alert:
    made = AlertFactory(status=status, created_at=NOW - changed, updated_at=NOW - changed)
    AlertEvent.objects.bulk_create(AlertEvent(alert=made, event_id=e) for e in events)
    AlertHistory.objects.create(
        alert=made, field="status", old_value="open", new_value=status, created_at=NOW - changed
    )
    return made


def prune(**options):
    return retention.prune(now=NOW, events_days=90, closed_alerts_days=365, **options)


@pytest.fixture
def old_and_new(db):
    """Events either side of the 90-day cutoff, alerts either side of the 365-day one."""
    old = ingest(200 * DAY, 91 * DAY, 90 * DAY + timedelta(minutes=1), 400 * DAY, 3650 * DAY)
    kept = ingest(90 * DAY - timedelta(minutes=1), 30 * DAY, timedelta(0), -DAY)
    alerts = {
        "open_old": alert(AlertStatus.OPEN, changed=500 * DAY, events=[old[0], kept[0]]),
        "acknowledged_old": alert(AlertStatus.ACKNOWLEDGED, changed=500 * DAY, events=[old[1]]),
        "resolved_old": alert(AlertStatus.RESOLVED, changed=366 * DAY, events=[old[2]]),
        "false_positive_old": alert(AlertStatus.FALSE_POSITIVE, changed=400 * DAY),
        "resolved_recent": alert(AlertStatus.RESOLVED, changed=364 * DAY, events=[kept[1]]),
    }
    return old, kept, alerts


def test_prune_deletes_exactly_the_events_and_closed_alerts_past_their_time(old_and_new):
    old, kept, alerts = old_and_new

    result = prune(chunk_size=2)

    assert result["events"] == len(old)
    assert set(Event.objects.values_list("id", flat=True)) == set(kept)
    assert result["closed_alerts"] == 2
    assert set(Alert.objects.values_list("pk", flat=True)) == {
        alerts[name].pk for name in ("open_old", "acknowledged_old", "resolved_recent")
    }
    # The links of pruned events and of pruned alerts go, the rest stay.
    assert set(AlertEvent.objects.values_list("alert_id", "event_id")) == {
        (alerts["open_old"].pk, kept[0]),
        (alerts["resolved_recent"].pk, kept[1]),
    }
    assert set(AlertHistory.objects.values_list("alert_id", flat=True)) == {
        alerts[name].pk for name in ("open_old", "acknowledged_old", "resolved_recent")
    }
    if connection.vendor == "postgresql":  # the ids go with their events
        assert set(EventId.objects.values_list("id", flat=True)) == set(kept)


def test_a_second_prune_deletes_nothing_more(old_and_new):
    prune()
    events, alerts = Event.objects.count(), Alert.objects.count()

    again = prune()

    assert (again["events"], again["closed_alerts"], again["partitions_dropped"]) == (0, 0, [])
    assert (Event.objects.count(), Alert.objects.count()) == (events, alerts)


def test_dry_run_counts_what_would_go_and_deletes_nothing(old_and_new):
    old, kept, _ = old_and_new

    result = prune(dry_run=True)

    assert (result["events"], result["closed_alerts"]) == (len(old), 2)
    assert Event.objects.count() == len(old) + len(kept)
    assert Alert.objects.count() == 5


def test_events_are_deleted_in_chunks_of_the_given_size(old_and_new):
    with CaptureQueriesContext(connection) as queries:
        result = prune(chunk_size=2)

    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "events_event"')]
    sizes = [d.split(" IN (")[1].split(")")[0].count(",") + 1 for d in deletes]
    # PostgreSQL drops the wholly old days instead: the rest goes row by row.
    assert sizes
    assert max(sizes) <= 2
    assert sum(sizes) == result["events"] - _rows_dropped_with_days(result)


def _rows_dropped_with_days(result) -> int:
    return 1 if result["partitions_dropped"] else 0  # the event 91 days old


def test_an_open_alert_whose_events_were_pruned_still_displays(
    old_and_new, api_client, analyst_user, bearer
):
    _, kept, alerts = old_and_new
    prune()

    response = api_client.get(
        reverse("alerts:detail", args=[alerts["open_old"].pk]),
        HTTP_AUTHORIZATION=bearer(analyst_user),
    )

    assert response.status_code == 200
    assert response.json()["events"] == [str(kept[0])]
    assert response.json()["status"] == "open"


def test_prune_runs_daily_in_the_scheduler_with_the_retention_settings(settings):
    settings.EVENTS_RETENTION_DAYS = 30
    settings.CLOSED_ALERTS_RETENTION_DAYS = 60

    (job,) = [job for job in table.scheduled_jobs() if job.name == "prune"]

    assert job.every_seconds == 24 * 3600
    assert job.run is retention.prune
    assert job.kwargs == {"events_days": 30, "closed_alerts_days": 60}


def test_expired_refresh_tokens_and_sessions_are_pruned(db, admin_user):
    from django.contrib.sessions.models import Session
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    for days, jti in ((-1, "expired"), (1, "valid")):
        OutstandingToken.objects.create(
            user=admin_user, jti=jti, token="t", expires_at=NOW + days * DAY
        )
        Session.objects.create(session_key=jti, session_data="", expire_date=NOW + days * DAY)

    result = prune()

    assert (result["expired_tokens"], result["expired_sessions"]) == (1, 1)
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["valid"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["valid"]


def test_finished_deliveries_and_tasks_past_the_events_retention_are_pruned(db):
    from django_tasks_db.models import DBTaskResult

    from secalerts.notifications import services
    from secalerts.notifications.models import Delivery, DeliveryStatus
    from secalerts.notifications.tests.helpers import raise_alerts

    services.create_channel(
        name="hook", kind="webhook", url="https://hooks.example.com/in", on=["alert.created"]
    )
    raise_alerts(3)
    old, old_pending, recent = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=old.pk).update(status=DeliveryStatus.SENT, created_at=NOW - 91 * DAY)
    Delivery.objects.filter(pk=old_pending.pk).update(created_at=NOW - 91 * DAY)
    Delivery.objects.filter(pk=recent.pk).update(status=DeliveryStatus.FAILED)
    (task,) = DBTaskResult.objects.all()
    DBTaskResult.objects.filter(pk=task.pk).update(status="SUCCESSFUL", finished_at=NOW - 91 * DAY)

    result = prune()

    assert (result["deliveries"], result["finished_tasks"]) == (1, 1)
    assert set(Delivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not DBTaskResult.objects.exists()
