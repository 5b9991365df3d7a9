"""Threshold window state as clients depend on it: kept across requests, pruned, upgraded."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
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
