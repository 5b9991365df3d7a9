"""Events older than the retention cutoff go, with their ids and the rows that refer to
them (alert links): whole days dropped on PostgreSQL, bounded chunks otherwise.

PostgreSQL (events.partitions): each day partition that ends at or before the cutoff is
detached (a brief lock, given up after partitions.LOCK_TIMEOUT and tried again on the
next run), its ids and links are deleted in chunks, and the table is dropped. A day
left detached by a run that stopped halfway is finished by the next run. What remains
older than the cutoff (the day the cutoff falls in, the DEFAULT partition), and every
old event on SQLite, is deleted in chunks of `chunk_size`, one short transaction each.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction

from secalerts.core import bulk_insert
from secalerts.events import partitions
from secalerts.events.models import Event, EventId

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class EventsPruned:
    deleted: int = 0  # events removed, dropped partitions' included
    dropped: list[str] = field(default_factory=list)  # partitions dropped
    # Dry run: the partitions that would be dropped.
    to_drop: list[str] = field(default_factory=list)
    complete: bool = True  # False when a partition could not be detached this run


def prune_events(*, cutoff: datetime, chunk_size: int, dry_run: bool = False) -> EventsPruned:
    """Remove the events whose time is before `cutoff`. Idempotent."""
    result = EventsPruned()
    old_days = (
        [p for p in partitions.day_partitions() if p.end <= cutoff]
        if partitions.is_partitioned()
        else []
    )
    if dry_run:
        result.to_drop = [p.name for p in old_days]
        # Detached leftovers are no longer in events_event: counted apart.
        result.deleted = Event.objects.filter(timestamp__lt=cutoff).count()
        with connection.cursor() as cursor:
            for day in old_days:
                if not day.attached:
                    cursor.execute(f"SELECT count(*) FROM {day.name}")  # noqa: S608 - our name
                    result.deleted += cursor.fetchone()[0]
        return result
    for day in old_days:
        if day.attached and not partitions.detach(day):
            # Its rows must not be deleted one by one below: the next run drops it.
            result.complete = False
            logger.warning("prune: %s stays until the next run", day.name)
            return result
        result.deleted += _forget_day(day.name, chunk_size)
        partitions.drop(day)
        result.dropped.append(day.name)
    result.deleted += _delete_old_rows(cutoff, chunk_size)
    return result


def _forget_day(table: str, chunk_size: int) -> int:
    """The ids and links of a detached day's events, a chunk per transaction."""
    forgotten, last = 0, None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            after = "" if last is None else "WHERE id > %s "
            cursor.execute(
                f"SELECT id FROM {table} {after}ORDER BY id LIMIT %s",  # noqa: S608 - our name
                ([] if last is None else [last]) + [chunk_size],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return forgotten
            EventId.objects.filter(pk__in=ids).delete()
            _delete_dependents(ids)
        forgotten += len(ids)
        last = ids[-1]


def _delete_old_rows(cutoff: datetime, chunk_size: int) -> int:
    old = Event.objects.filter(timestamp__lt=cutoff).order_by("-timestamp", "-id")
    table = connection.ops.quote_name(Event._meta.db_table)
    as_db_uuid = bulk_insert.uuid_adapter()
    before = connection.ops.adapt_datetimefield_value(cutoff)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(old.values_list("id", flat=True)[:chunk_size])
            if not ids:
                return deleted
            _delete_dependents(ids)
            if partitions.is_partitioned():
                EventId.objects.filter(pk__in=ids).delete()
            marks = ", ".join(["%s"] * len(ids))
            with connection.cursor() as cursor:
                # With the cutoff: PostgreSQL then looks only in the partitions before it.
                cursor.execute(
                    f'DELETE FROM {table} WHERE id IN ({marks}) AND "timestamp" < %s',  # noqa: S608
                    [as_db_uuid(i) for i in ids] + [before],
                )
        deleted += len(ids)


def _delete_dependents(ids: Sequence[Any]) -> None:
    """Rows referring to these events with on_delete=CASCADE (alert links): the database
    has no foreign keys to events_event to do it (events.partitions)."""
    for relation in Event._meta.related_objects:
        if isinstance(relation, models.ManyToOneRel) and relation.on_delete is models.CASCADE:
            relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": ids}
            ).delete()
