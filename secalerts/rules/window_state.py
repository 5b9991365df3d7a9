"""Threshold window state in the database: group locks, prior hits, new hits, pruning.

State lives in the database, not in a process, so any number of workers give the
same alerts as one; the advisory locks make two workers counting the same group
take turns, so the second sees the first's committed hits.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection

from secalerts import detection
from secalerts.core import bulk_insert
from secalerts.rules.models import ThresholdHit
from secalerts.rules.registry import group_key

GroupRef = tuple[Any, tuple[Any, ...]]  # (rule id, group values)


def lock_groups(keys: Iterable[str]) -> None:
    """Serialize writers per (rule, group) until commit. SQLite needs nothing: its
    IMMEDIATE transactions already admit one writer at a time."""
    if connection.vendor != "postgresql":
        return
    lock_ids = sorted({int(key[:16], 16) - (1 << 63) for key in keys})  # signed 64-bit
    if not lock_ids:
        return
    with connection.cursor() as cursor:
        # Sorted order: two batches locking overlapping groups cannot deadlock.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) "
            "ORDER BY n",
            [lock_ids],
        )
        cursor.fetchall()


def load_prior_hits(
    ranges: Mapping[GroupRef, tuple[datetime, datetime]],
) -> dict[GroupRef, list[detection.Hit]]:
    """Stored hits of each group inside its look-up range, in one query.

    Raw SQL: the ORM's per-row model and converter work cost more than the query
    itself, and a busy group can have hundreds of hits in a window.
    """
    if not ranges:
        return {}
    by_key = {group_key(rule_id, group): (rule_id, group) for rule_id, group in ranges}
    start = min(low for low, _ in ranges.values())
    end = max(high for _, high in ranges.values())
    sqlite = connection.vendor == "sqlite"
    adapt = bulk_insert.datetime_adapter()
    table = connection.ops.quote_name(ThresholdHit._meta.db_table)
    placeholders = ", ".join(["%s"] * len(by_key))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, timestamp, event_id, value FROM {table} "  # noqa: S608 - names are ours
            f"WHERE key IN ({placeholders}) AND timestamp >= %s AND timestamp <= %s",
            [*by_key, adapt(start), adapt(end)],
        )
        rows = cursor.fetchall()
    prior: dict[GroupRef, list[detection.Hit]] = defaultdict(list)
    for key, timestamp, event_id, value in rows:
        if sqlite:  # naive UTC datetimes and hex text there, as Django stores them
            if isinstance(timestamp, str):
                timestamp = datetime.fromisoformat(timestamp)
            timestamp = timestamp.replace(tzinfo=UTC)
            event_id = UUID(hex=event_id)
        ref = by_key[key]
        low, high = ranges[ref]
        if low <= timestamp <= high:
            decoded = None if value is None else json.loads(value)
            prior[ref].append(detection.Hit(timestamp=timestamp, ref=event_id, value=decoded))
    return prior


def store_hits(
    new_hits: Mapping[GroupRef, Sequence[tuple[int, detection.Hit]]], *, now: datetime
) -> None:
    db_uuid = bulk_insert.uuid_adapter()
    adapt = bulk_insert.datetime_adapter()
    created = adapt(now)
    rows = [
        (
            rule_id,
            key,
            adapt(hit.timestamp),
            db_uuid(hit.ref),
            None if hit.value is None else json.dumps(hit.value),
            created,
        )
        for (rule_id, group), hits in new_hits.items()
        for key in [group_key(rule_id, group)]
        for _, hit in hits
    ]
    # New events only reach here, so (key, event_id) cannot exist yet.
    bulk_insert.insert_rows(
        ThresholdHit._meta.db_table,
        ("rule_id", "key", "timestamp", "event_id", "value", "created_at"),
        rows,
    )


def prune_hits(*, now: datetime, keep_seconds: int) -> int:
    """Forget hits stored longer ago than any window plus the allowed lateness."""
    deleted, _ = ThresholdHit.objects.filter(
        created_at__lt=now - timedelta(seconds=keep_seconds)
    ).delete()
    return deleted
