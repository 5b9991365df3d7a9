"""Threshold window state as clients depend on it: kept across requests, pruned, upgraded."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule, ThresholdHitPack
from secalerts.rules.services import create_rule
from secalerts.rules.window_state import _UnpackedPacks, prune_hits

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def failure(second: int, **fields):
    return {
        "id": str(uuid.uuid4()),
        "timestamp": (START + timedelta(seconds=second)).isoformat(),
        "event_type": "vpn.login_failed",
        "source": "vpn-1",
        "source_ip": "198.51.100.7",
        "username": f"user{second}",
    } | fields


@pytest.fixture
def send(api_client, analyst_user, bearer):
    header = bearer(analyst_user)

    def post(events):
        response = api_client.post(
            reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=header
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return post


def threshold_rule(**threshold):
    return create_rule(
        name="VPN guessing",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "vpn.login_failed"},
        group_by=["source_ip"],
        threshold={"count": 3, "window_seconds": 60} | threshold,
    )


def test_hits_of_earlier_requests_complete_a_window(send):
    rule = threshold_rule()
    assert send([failure(0), failure(100)])["alerts"] == []
    assert send([failure(10)])["alerts"] == []  # 0 and 10 are in one window, 100 is not
    answer = send([failure(20), failure(500)])

    (alert,) = Alert.objects.filter(rule=rule)
    assert answer["alerts"] == [alert.pk]
    assert alert.event_count == 3
    assert (alert.first_seen, alert.last_seen) == (START, START + timedelta(seconds=20))
    # One pack per group and request, not a row per counted event.
    assert ThresholdHitPack.objects.filter(rule=rule).count() == 3


def test_distinct_values_of_any_field_type_count(send):
    """Distinct event times (datetimes in memory) survive being stored between requests."""
    rule = threshold_rule(distinct_field="timestamp")
    send([failure(0), failure(0)])  # one distinct value
    send([failure(5)])
    assert not Alert.objects.filter(rule=rule).exists()
    send([failure(5), failure(7)])

    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.event_count == 5


def test_pruned_hits_no_longer_count(send, settings):
    rule = threshold_rule()
    send([failure(0), failure(1)])
    later = timezone.now() + timedelta(seconds=settings.THRESHOLD_STATE_SECONDS + 1)

    assert prune_hits(now=later, keep_seconds=settings.THRESHOLD_STATE_SECONDS) == 1
    assert prune_hits(now=timezone.now(), keep_seconds=0) == 0  # nothing left
    send([failure(2)])
    assert not Alert.objects.filter(rule=rule).exists()


def pack(*seconds: int) -> str:
    base = int(START.timestamp()) * 1_000_000
    return json.dumps([[base + s * 1_000_000, uuid.uuid4().hex, None] for s in seconds])


def test_decoded_packs_are_reused_only_while_their_stored_text_is_the_same():
    packs = _UnpackedPacks(max_hits=5)
    text = pack(0, 1)
    _, hits = packs.get(1, text)
    assert packs.get(1, text)[1] is hits  # decoded once
    # The same id with other hits (an id reused after a rollback) is decoded afresh.
    _, other = packs.get(1, pack(0, 1))
    assert [hit.ref for hit in other] != [hit.ref for hit in hits]

    packs.get(2, pack(3))
    times, hits = packs.get(3, pack(7, 8, 9))

    assert [hit.timestamp for hit in hits] == [START + timedelta(seconds=s) for s in (7, 8, 9)]
    assert times == sorted(times)
    # At most five hits kept: the least recently used pack went.
    assert list(packs._packs) == [2, 3]


@pytest.mark.django_db(transaction=True)
def test_upgrade_packs_the_hits_stored_one_per_row():
    """Migration 0004 carries stored hits over, so windows open across an upgrade complete."""
    executor = MigrationExecutor(connection)
    executor.migrate([("rules", "0003_lean_threshold_hits")])
    old = executor.loader.project_state([("rules", "0003_lean_threshold_hits")]).apps
    rule = old.get_model("rules", "Rule").objects.create(
        name="old threshold", condition={"field": "event_type", "op": "exists"}
    )
    ids = [uuid.uuid4() for _ in range(3)]
    hit = old.get_model("rules", "ThresholdHit")
    for second, (event_id, value) in enumerate(zip(ids, ["alice", None, {"a": 1}], strict=True)):
        hit.objects.create(
            rule_id=rule.pk,
            key="k1" if second < 2 else "k2",
            timestamp=START + timedelta(seconds=second, microseconds=7),
            event_id=event_id,
            value=None if value is None else json.dumps(value),
            created_at=START + timedelta(hours=second),
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    packs = {pack.key: pack for pack in ThresholdHitPack.objects.filter(rule_id=rule.pk)}
    assert set(packs) == {"k1", "k2"}
    micros = int((START - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + 7
    assert json.loads(packs["k1"].hits) == [
        [micros, ids[0].hex, "alice"],
        [micros + 1_000_000, ids[1].hex, None],
    ]
    assert json.loads(packs["k2"].hits) == [[micros + 2_000_000, ids[2].hex, {"a": 1}]]
    assert packs["k1"].first_timestamp == START + timedelta(microseconds=7)
    assert packs["k1"].last_timestamp == START + timedelta(seconds=1, microseconds=7)
    assert packs["k1"].created_at == START + timedelta(hours=1)

    # And back: a downgrade unpacks them (each keeping its pack's, later, arrival time).
    executor = MigrationExecutor(connection)
    executor.migrate([("rules", "0003_lean_threshold_hits")])
    hit = executor.loader.project_state([("rules", "0003_lean_threshold_hits")]).apps.get_model(
        "rules", "ThresholdHit"
    )
    restored = hit.objects.order_by("timestamp")
    assert [(h.key, h.event_id, h.value) for h in restored] == [
        ("k1", ids[0], '"alice"'),
        ("k1", ids[1], None),
        ("k2", ids[2], '{"a": 1}'),
    ]
    assert [h.timestamp for h in restored] == [
        START + timedelta(seconds=second, microseconds=7) for second in range(3)
    ]
    assert [h.created_at for h in restored] == [START + timedelta(hours=h) for h in (1, 1, 2)]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    Rule.objects.filter(pk=rule.pk).delete()


def test_rules_may_group_by_event_time_and_id(send):
    by_time = create_rule(
        name="same second",
        condition={"field": "event_type", "op": "eq", "value": "vpn.login_failed"},
        group_by=["timestamp", "id"],
        threshold={"count": 1, "window_seconds": 0},
    )
    event = failure(3)
    send([event])

    (alert,) = Alert.objects.filter(rule=by_time)
    assert alert.group == {"timestamp": "2026-03-01T12:00:03+00:00", "id": event["id"]}


def test_a_sustained_attack_does_not_link_its_window_again(send):
    """Each request of an ongoing attack adds its own events to the open alert; the window's
    earlier events, linked when they came, are not sent to the database again."""
    rule = threshold_rule()
    send([failure(second) for second in range(10)])
    for start in (10, 15):
        with CaptureQueriesContext(connection) as queries:
            send([failure(second) for second in range(start, start + 5)])
        relinks = [
            q["sql"] for q in queries if "ON CONFLICT" in q["sql"] and "alertevent" in q["sql"]
        ]
        assert relinks == []

    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.event_count == alert.events.count() == 20


def test_prior_hits_not_yet_linked_join_the_alert_once(send):
    """Hits stored before their window qualified, or linked to an alert since closed, are
    linked to the alert their window joins now, each once."""
    rule = threshold_rule()
    send([failure(0)])  # below the threshold: stored, linked to nothing
    send([failure(1), failure(2)])  # completes 0-1-2: a new alert takes all three
    send([failure(3)])  # 0, 1 and 2 are prior hits of its window again
    (first,) = Alert.objects.filter(rule=rule)
    assert first.event_count == first.events.count() == 4

    first.status = "resolved"
    first.save()
    send([failure(4)])  # the window 0..4 qualifies again; the open alert is gone

    second = Alert.objects.filter(rule=rule).exclude(pk=first.pk).get()
    assert second.event_count == second.events.count() == 5
    send([failure(5)])
    second.refresh_from_db()
    assert second.event_count == second.events.count() == 6


def test_one_batch_of_hits_split_over_two_alerts_is_checked_again(send):
    """Two windows of one group in one request raise two alerts (no dedup); a later hit
    joining the first window links its prior hits once."""
    rule = threshold_rule(count=2, window_seconds=10)
    rule.dedup_window_seconds = 0
    rule.save()
    send([failure(0), failure(1), failure(100), failure(101)])
    assert Alert.objects.filter(rule=rule).count() == 2
    send([failure(5)])

    counts = sorted(
        (alert.event_count, alert.events.count()) for alert in Alert.objects.filter(rule=rule)
    )
    assert counts == [(2, 2), (3, 3)]


def test_hits_left_out_of_an_alert_are_linked_when_their_window_joins_it(send):
    """A request whose hits only partly reached the alert: the rest are linked later."""
    rule = threshold_rule()
    send([failure(0), failure(1), failure(2), failure(500)])  # 500 is alone in its window
    send([failure(501), failure(502)])  # 500-501-502 qualifies and joins the open alert

    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.event_count == alert.events.count() == 6


def test_a_batch_counting_more_groups_than_postgresql_can_lock_is_stored(send):
    """A scan from 1000 sources under 25 threshold rules counts 25,000 groups in one
    request. PostgreSQL's shared lock table holds max_locks_per_transaction (64) times
    max_connections entries: a lock per group ran out of shared memory (503 forever)."""
    for number in range(25):
        create_rule(
            name=f"guessing {number}",
            condition={"field": "event_type", "op": "eq", "value": "vpn.login_failed"},
            group_by=["source_ip"],
            threshold={"count": 100, "window_seconds": 60 + number},
        )
    scan = [failure(i % 60, source_ip=f"10.0.{i // 250}.{i % 250}") for i in range(1000)]

    assert send(scan)["accepted"] == 1000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rules_thresholdhitpack")
        assert cursor.fetchone()[0] == 25_000
