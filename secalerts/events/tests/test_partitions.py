"""PostgreSQL: events partitioned by day; ids unique across days; old days dropped."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from secalerts.core.errors import IdConflict
from secalerts.detection.schema import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP
from secalerts.events import partitions
from secalerts.events.models import Event, EventId
from secalerts.ingest.service import ingest_events
from secalerts.jobs import retention
from tests.concurrent_ingest import run_at_once, validated

pytestmark = pytest.mark.requires_postgres
NOW = timezone.now()
DAY = timedelta(days=1)


def item(when: datetime, **fields) -> dict:
    return {"event_type": "auth.failure", "source": "vpn", "timestamp": when.isoformat()} | fields


def partition_of(event_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM events_event WHERE id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_migrate_made_the_days_from_today_to_a_week_ahead(db):
    today = NOW.astimezone(UTC).date()
    attached = {p.day for p in partitions.day_partitions() if p.attached}

    assert {today + timedelta(days=n) for n in range(partitions.DAYS_AHEAD + 1)} <= attached
    assert partitions.ensure_partitions(now=NOW) == []  # idempotent


def test_events_go_to_their_day_and_far_times_to_the_default_partition(
    db, api_client, analyst_user, bearer
):
    far_past = EARLIEST_TIMESTAMP
    far_future = LATEST_TIMESTAMP - timedelta(microseconds=1)
    events = validated([item(NOW), item(far_past), item(far_future)])

    ingest_events(events=events)

    today = partitions.partition_name(NOW.astimezone(UTC).date())
    assert [partition_of(e["id"]) for e in events] == [
        today,
        partitions.DEFAULT,
        partitions.DEFAULT,
    ]
    for event in events:
        response = api_client.get(
            reverse("events:detail", args=[event["id"]]), HTTP_AUTHORIZATION=bearer(analyst_user)
        )
        assert response.status_code == 200
        assert response.json()["id"] == str(event["id"])


def test_making_a_day_moves_its_events_out_of_the_default_partition(db):
    later = NOW + 30 * DAY
    (event,) = validated([item(later)])
    ingest_events(events=[event])
    assert partition_of(event["id"]) == partitions.DEFAULT

    made = partitions.ensure_partitions(now=later, days_ahead=0)

    assert made == [partitions.partition_name(later.astimezone(UTC).date())]
    assert partition_of(event["id"]) == made[0]


def test_a_sent_again_id_is_a_duplicate_or_a_conflict_whatever_its_day(db):
    (first,) = validated([item(NOW - 10 * DAY, id=str(uuid.uuid4()))])
    ingest_events(events=[first])
    # Without a timestamp the retry gets the time of arrival: another day's partition.
    (retry,) = validated([{"id": str(first["id"]), "event_type": "auth.failure", "source": "vpn"}])

    assert ingest_events(events=[retry]).stored_ids == frozenset()
    (other,) = validated([item(NOW - 3 * DAY, id=str(first["id"]))])
    with pytest.raises(IdConflict):
        ingest_events(events=[other])
    assert Event.objects.filter(pk=first["id"]).count() == 1


def test_an_event_deleted_and_sent_again_is_stored_again(db):
    (first,) = validated([item(NOW - DAY, id=str(uuid.uuid4()))])
    ingest_events(events=[first])

    Event.objects.filter(pk=first["id"]).delete()  # as the admin or a shell would

    assert not EventId.objects.filter(pk=first["id"]).exists()
    assert ingest_events(events=[first]).stored_ids == {first["id"]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_inserts_of_one_id_on_different_days_store_one(attempt):
    """Two days' partitions cannot see each other's rows: the id table decides."""
    shared = str(uuid.uuid4())
    batches = [validated([item(NOW - days * DAY, id=shared)]) for days in (1, 5)]

    outcomes = run_at_once(batches)

    assert Event.objects.filter(pk=shared).count() == 1
    assert EventId.objects.filter(pk=shared).count() == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["IdConflict", "NoneType"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_retries_of_a_batch_store_it_once(attempt):
    batch = validated([item(NOW - n * DAY, id=str(uuid.uuid4())) for n in range(100)])

    assert run_at_once([batch, batch[::-1], batch]) == [None, None, None]
    assert Event.objects.count() == EventId.objects.count() == 100


def test_prune_drops_whole_old_days_and_finishes_a_day_left_detached(db):
    old_days = [NOW - 200 * DAY, NOW - 150 * DAY]
    for when in old_days:
        partitions.ensure_partitions(now=when, days_ahead=0)
    events = validated([item(when) for when in old_days for _ in range(3)])
    ingest_events(events=events)
    names = [partitions.partition_name(when.astimezone(UTC).date()) for when in old_days]
    # A prune stopped after detaching a day: the next one finishes it.
    (leftover,) = [p for p in partitions.day_partitions() if p.name == names[0]]
    assert partitions.detach(leftover)

    result = retention.prune(now=NOW, events_days=90, closed_alerts_days=365)

    assert set(names) <= set(result["partitions_dropped"])
    assert not any(table_exists(name) for name in names)
    assert not EventId.objects.filter(pk__in=[e["id"] for e in events]).exists()
    assert all(p.end > NOW - 90 * DAY for p in partitions.day_partitions())
