"""`prune`: everything that grows without bound, cut back to its retention.

Run daily by the scheduler (jobs.table) and by `manage.py prune`. Each part deletes in
chunks of CHUNK_SIZE rows, a short transaction each, so ingestion and triage never wait
long; running it twice, or two at once, deletes nothing more.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Model, QuerySet
from django_tasks_db.models import DBTaskResult
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from secalerts.alerts.retention import prune_closed_alerts
from secalerts.events import partitions
from secalerts.events.retention import prune_events
from secalerts.notifications.models import Delivery, DeliveryStatus

CHUNK_SIZE = 5000


@dataclass(slots=True)
class Pruned:
    events_before: str
    alerts_before: str
    events: int = 0
    partitions_dropped: list[str] = field(default_factory=list)
    partitions_made: list[str] = field(default_factory=list)
    closed_alerts: int = 0
    expired_tokens: int = 0
    expired_sessions: int = 0
    deliveries: int = 0
    finished_tasks: int = 0
    complete: bool = True


def prune(
    *,
    now: datetime,
    events_days: int,
    closed_alerts_days: int,
    chunk_size: int = CHUNK_SIZE,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Returns what was (or, with `dry_run`, would be) removed, for the job's log line."""
    events_cutoff = now - timedelta(days=events_days)
    alerts_cutoff = now - timedelta(days=closed_alerts_days)
    result = Pruned(
        events_before=events_cutoff.isoformat(), alerts_before=alerts_cutoff.isoformat()
    )
    if not dry_run:  # the days ahead first: inserts land in their partition, not DEFAULT
        result.partitions_made = partitions.ensure_partitions(now=now)
    events = prune_events(cutoff=events_cutoff, chunk_size=chunk_size, dry_run=dry_run)
    result.events = events.deleted
    result.partitions_dropped = events.to_drop if dry_run else events.dropped
    result.complete = events.complete
    result.closed_alerts = prune_closed_alerts(
        cutoff=alerts_cutoff, chunk_size=chunk_size, dry_run=dry_run
    )
    # Expired refresh tokens (their blacklist entries cascade) and expired sessions.
    result.expired_tokens = _delete(
        OutstandingToken.objects.filter(expires_at__lt=now), chunk_size, dry_run
    )
    result.expired_sessions = _delete(
        Session.objects.filter(expire_date__lt=now), chunk_size, dry_run
    )
    # The delivery log (attempts cascade) and the task queue's finished rows, kept as
    # long as events: deliveries still pending or retrying are never removed.
    done = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
    result.deliveries = _delete(
        Delivery.objects.filter(status__in=done, created_at__lt=events_cutoff), chunk_size, dry_run
    )
    result.finished_tasks = _delete(
        DBTaskResult.objects.filter(status__in=("SUCCESSFUL", "FAILED")).filter(
            finished_at__lt=events_cutoff
        ),
        chunk_size,
        dry_run,
    )
    return asdict(result)


def _delete(queryset: QuerySet[Any], chunk_size: int, dry_run: bool) -> int:
    if dry_run:
        return queryset.count()
    model: type[Model] = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            keys = list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size])
            if not keys:
                return deleted
            model._base_manager.filter(pk__in=keys).delete()
        deleted += len(keys)
