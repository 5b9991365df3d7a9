"""The outbox: one Delivery row per (alert change, channel that wants it), written in
the alert change's own transaction, with the task that will send them. Both commit or
roll back with the alert, so a committed change is never without its deliveries."""

import uuid
from typing import Any

from django.db import connection
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from secalerts.alerts.models import Alert
from secalerts.core import bulk_insert
from secalerts.notifications.channel_set import active_channels
from secalerts.notifications.models import AlertChange, Delivery, DeliveryStatus

# Deliveries per task: a task is one unit of work for the worker, and a crash re-runs
# it whole (at least once), so it stays small enough to re-send cheaply.
DELIVERIES_PER_TASK = 200
_COLUMNS = ("id", "channel_id", "alert_id", "type", "status", "attempts", "error", "created_at")


def record_deliveries(
    sender: object, *, created: list[int], updated: list[int], **kwargs: Any
) -> None:
    """The receiver of alerts_changed, inside the alert change's transaction."""
    channels = active_channels()
    if not channels:
        return
    if not connection.in_atomic_block:
        # Written after the alerts committed, a crash in between would lose them.
        raise TransactionManagementError("alerts_changed must be sent inside the transaction")
    kinds = dict.fromkeys(updated, AlertChange.UPDATED.value)
    kinds.update(dict.fromkeys(created, AlertChange.CREATED.value))
    if not any(kind in channel.on for channel in channels for kind in set(kinds.values())):
        return
    wanted = [
        (channel.id, pk)
        for pk, severity, rule_id in _severity_and_rule(list(kinds))
        for channel in channels
        if channel.wants(kinds[pk], severity, rule_id)
    ]
    if not wanted:
        return
    # Plain rows, not bulk_create: the ORM's per-value preparation cost more than the
    # inserts themselves (docs/performance.md, "Notifications").
    ids = [uuid.uuid4() for _ in wanted]
    as_uuid, now = bulk_insert.uuid_adapter(), bulk_insert.datetime_adapter()(timezone.now())
    pending = DeliveryStatus.PENDING.value
    rows = [
        (as_uuid(delivery_id), channel_id, pk, kinds[pk], pending, 0, "", now)
        for delivery_id, (channel_id, pk) in zip(ids, wanted, strict=True)
    ]
    bulk_insert.insert_rows(Delivery._meta.db_table, _COLUMNS, rows)
    enqueue([str(delivery_id) for delivery_id in ids])


def _severity_and_rule(ids: list[int]) -> list[tuple[int, str, int | None]]:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, severity, rule_id FROM {q(Alert._meta.db_table)} "  # noqa: S608 - ours
            f"WHERE id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        return cursor.fetchall()


def enqueue(delivery_ids: list[str], run_after: Any = None) -> None:
    from secalerts.notifications.tasks import deliver

    task = deliver if run_after is None else deliver.using(run_after=run_after)
    for start in range(0, len(delivery_ids), DELIVERIES_PER_TASK):
        task.enqueue(delivery_ids[start : start + DELIVERIES_PER_TASK])
