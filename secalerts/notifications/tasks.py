"""The delivery task, run by `manage.py notify_worker` (django-tasks-db's worker)."""

from django.tasks import task

from secalerts.notifications import sending

QUEUE = "notifications"


@task(queue_name=QUEUE)
def deliver(delivery_ids: list[str]) -> dict[str, int]:
    """Send these deliveries once; failures are recorded and scheduled again."""
    return sending.send_deliveries(delivery_ids)
