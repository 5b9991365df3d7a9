"""The stream's change log: each pushed alert change, numbered, kept for `?since=` replay.

A transaction that changes alerts logs its changes at its end (notifications.notify_alerts):
it bumps the one counter row by the number of changes and inserts them. The counter's
row lock is held until commit, so transactions take seqs in the order they commit
(on PostgreSQL a sequence would not: seq 10 may commit after seq 11, and a client that
saw 11 would never get 10; on SQLite writers are serialized anyway). A rolled-back
transaction takes its seqs back with it. So the committed log is always a gap-free run
of seqs, and whoever has seen seq N has seen every change before it.

Kept for REPLAY_SECONDS and at most the newest REPLAY_CHANGES (`prune`, a scheduled job,
and `resumable`, which refuses a replay past either bound when the job lags).
"""

from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from secalerts.alerts.models import AlertChange, AlertChangeCounter
from secalerts.core import bulk_insert

REPLAY_SECONDS = 24 * 3600
REPLAY_CHANGES = 10_000
PRUNE_EVERY_SECONDS = 300


class Change(NamedTuple):
    seq: int
    kind: str  # alert.created / alert.updated
    alert_id: int


def record(kinds: dict[int, str]) -> list[Change]:
    """Numbers and logs one change per alert (`{alert id: kind}`), in the caller's
    transaction, or in one of its own when there is none."""
    if not kinds:
        return []
    with nullcontext() if connection.in_atomic_block else transaction.atomic():
        last = _take_seqs(len(kinds))
        logged = [
            Change(seq, kind, alert_id)
            for seq, (alert_id, kind) in enumerate(kinds.items(), start=last - len(kinds) + 1)
        ]
        at = bulk_insert.datetime_adapter()(timezone.now())
        bulk_insert.insert_rows(
            AlertChange._meta.db_table,
            ("seq", "kind", "alert_id", "created_at"),
            [(change.seq, change.kind, change.alert_id, at) for change in logged],
        )
    return logged


def _take_seqs(count: int) -> int:
    """The last of `count` new seqs; the counter row stays locked until commit."""
    q = connection.ops.quote_name
    table = q(AlertChangeCounter._meta.db_table)
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(
                f"UPDATE {table} SET last_seq = last_seq + %s WHERE id = 1 RETURNING last_seq",  # noqa: S608 - names are ours
                [count],
            )
            row = cursor.fetchone()
            if row is not None:
                return row[0]
            # No counter row: a new (or flushed) database. Start after what the log holds.
            cursor.execute(
                f"INSERT INTO {table} (id, last_seq) "  # noqa: S608 - names are ours
                f"SELECT 1, COALESCE(MAX(seq), 0) FROM {q(AlertChange._meta.db_table)} "
                # The WHERE tells SQLite's parser the ON CONFLICT is the INSERT's.
                "WHERE TRUE ON CONFLICT (id) DO NOTHING"
            )
    raise RuntimeError("alert change counter: no row after creating it")


def last_seq() -> int:
    """The newest committed seq (0 before any change)."""
    found = AlertChangeCounter.objects.filter(pk=1).values_list("last_seq", flat=True).first()
    return found or 0


def resumable(since: int, *, now: datetime) -> bool:
    """Whether the log still holds every change after `since`: no more than REPLAY_CHANGES
    of them, the first no older than REPLAY_SECONDS. A seq beyond the newest is one this
    database never gave (restored, or another server's): not resumable either."""
    last = last_seq()
    if since > last or last - since > REPLAY_CHANGES:
        return False
    if since == last:
        return True
    first = AlertChange.objects.filter(seq=since + 1).values_list("created_at", flat=True).first()
    return first is not None and first >= now - timedelta(seconds=REPLAY_SECONDS)


def changes_after(after: int, *, limit: int) -> list[Change]:
    """Logged changes with seq > `after`, oldest first. Gap-free unless pruned: the caller
    checks that the first is `after + 1`."""
    rows = AlertChange.objects.filter(seq__gt=after).order_by("seq")
    return [Change(*row) for row in rows.values_list("seq", "kind", "alert_id")[:limit]]


def prune(
    *, now: datetime, keep_seconds: int = REPLAY_SECONDS, keep_changes: int = REPLAY_CHANGES
) -> int:
    """Forget changes older than `keep_seconds` or beyond the newest `keep_changes`;
    returns how many were deleted."""
    too_old = Q(created_at__lt=now - timedelta(seconds=keep_seconds))
    too_many = Q(seq__lte=last_seq() - keep_changes)
    deleted, _ = AlertChange.objects.filter(too_old | too_many).delete()
    return deleted
