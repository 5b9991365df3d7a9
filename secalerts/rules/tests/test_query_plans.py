"""The look-up of prior threshold hits reads the (key, last_timestamp) index, on both
databases, with and without planner statistics: it runs in every ingest that counts."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from secalerts.rules.models import Rule, ThresholdHitPack
from secalerts.rules.window_state import prior_hits_query

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def key(number: int) -> str:
    return hashlib.sha256(str(number).encode()).hexdigest()


@pytest.fixture
def many_packs(db):
    """20,000 packs: 200 groups, one pack a minute each, as 100 ingests would leave."""
    rule = Rule.objects.create(name="counted", condition={"field": "event_type", "op": "exists"})
    ThresholdHitPack.objects.bulk_create(
        ThresholdHitPack(
            rule=rule,
            key=key(group),
            first_timestamp=T0 + timedelta(minutes=minute),
            last_timestamp=T0 + timedelta(minutes=minute, seconds=50),
            hits="[]",
            created_at=T0 + timedelta(minutes=minute),
        )
        for minute in range(100)
        for group in range(200)
    )


def plan(with_statistics: bool) -> str:
    if with_statistics:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE rules_thresholdhitpack")
    low, high = T0 + timedelta(minutes=98), T0 + timedelta(minutes=99, seconds=59)
    sql, params = prior_hits_query({key(group): (low, high) for group in range(0, 200, 2)})
    explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("with_statistics", [False, True])
def test_prior_hits_are_looked_up_by_the_index(many_packs, with_statistics):
    text = plan(with_statistics)

    assert "hitpack_key_time" in text, text
    assert "Seq Scan" not in text, text
    assert "SCAN p" not in text, text


@pytest.mark.parametrize("with_statistics", [False, True])
def test_each_group_reads_only_packs_overlapping_its_range(many_packs, with_statistics):
    plan(with_statistics)  # the same database state as the plan test
    ranges = {
        key(1): (T0 + timedelta(minutes=10, seconds=55), T0 + timedelta(minutes=12)),
        key(2): (T0 + timedelta(minutes=50), T0 + timedelta(minutes=50, seconds=10)),
        key(999): (T0, T0 + timedelta(days=1)),  # no such group
    }
    with connection.cursor() as cursor:
        cursor.execute(*prior_hits_query(ranges))
        rows = cursor.fetchall()

    found = ThresholdHitPack.objects.filter(pk__in=[row[0] for row in rows])
    assert len(rows) == 3
    assert {(pack.key, pack.first_timestamp) for pack in found} == {
        (key(1), T0 + timedelta(minutes=11)),
        (key(1), T0 + timedelta(minutes=12)),
        (key(2), T0 + timedelta(minutes=50)),
    }
