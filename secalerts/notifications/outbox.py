"""The outbox: one Delivery row per (alert change, channel that wants it), written in
the alert change's own transaction, with the task that will send them. Both commit or
roll back with the alert, so a committed change is never without its deliveries."""

from typing import Any

from django.utils import timezone

from secalerts.alerts.models import Alert
from secalerts.notifications.channel_set import active_channels
from secalerts.notifications.models import AlertChange, Delivery

# Deliveries per task: a task is one unit of work for the worker, and a crash re-runs
# it whole (at least once), so it stays small enough to re-send cheaply.
DELIVERIES_PER_TASK = 200


def record_deliveries(
    sender: object, *, created: list[int], updated: list[int], **kwargs: Any
) -> None:
    """The receiver of alerts_changed, inside the alert change's transaction."""
    channels = active_channels()
    if not channels:
        return
    kinds = dict.fromkeys(updated, AlertChange.UPDATED.value)
    kinds.update(dict.fromkeys(created, AlertChange.CREATED.value))
    if not any(kind in channel.on for channel in channels for kind in set(kinds.values())):
        return
    now = timezone.now()
    rows = Alert.objects.filter(pk__in=list(kinds)).values_list("pk", "severity", "rule_id")
    deliveries = [
        Delivery(channel_id=channel.id, alert_id=pk, type=kinds[pk], created_at=now)
        for pk, severity, rule_id in rows
        for channel in channels
        if channel.wants(kinds[pk], severity, rule_id)
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        enqueue([str(delivery.pk) for delivery in deliveries])


def enqueue(delivery_ids: list[str], run_after: Any = None) -> None:
    from secalerts.notifications.tasks import deliver

    task = deliver if run_after is None else deliver.using(run_after=run_after)
    for start in range(0, len(delivery_ids), DELIVERIES_PER_TASK):
        task.enqueue(delivery_ids[start : start + DELIVERIES_PER_TASK])
