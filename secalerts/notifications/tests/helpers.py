"""Running the real worker (django-tasks-db's) in the test's process, and raising alerts."""

from django.db import transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from secalerts.alerts.models import Alert
from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.notifications.tasks import QUEUE


def run_due_tasks() -> None:
    """Run every notification task that is due now, then return."""
    Worker(
        queue_names=[QUEUE],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


def raise_alerts(count: int, **fields: object) -> list[Alert]:
    """New alerts, announced as the services do: inside their transaction."""
    with transaction.atomic():
        alerts = [AlertFactory(**fields) for _ in range(count)]
        notify_alerts(created=[alert.pk for alert in alerts])
    return alerts
