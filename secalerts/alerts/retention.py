"""Closed alerts (resolved, false positive) last changed before the cutoff go, with their
links and history; open and acknowledged alerts stay however old."""

from datetime import datetime

from django.db import transaction

from secalerts.alerts.models import Alert, AlertStatus

CLOSED_STATUSES = (AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE)


def prune_closed_alerts(*, cutoff: datetime, chunk_size: int, dry_run: bool = False) -> int:
    """Delete them a chunk per transaction; returns how many (would be) deleted."""
    closed = Alert.objects.filter(status__in=CLOSED_STATUSES, updated_at__lt=cutoff)
    if dry_run:
        return closed.count()
    deleted, last = 0, 0
    while True:
        with transaction.atomic():
            # In id order over the primary key: one pass over the table in all. Locked
            # as triage locks them, so an alert reopened meanwhile is not deleted.
            ids = list(
                closed.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update()
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not ids:
                return deleted
            # The ORM's cascade: links, history, and whatever else refers to alerts.
            Alert.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        last = ids[-1]
