"""`manage.py notify_worker`: send notification deliveries until stopped.

`manage.py serve` runs one beside its web workers unless `--no-notify`; run more on
other hosts for more throughput: they share the queue through the database.
"""

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from secalerts.notifications import worker
from secalerts.notifications.tasks import QUEUE

# How long an idle worker waits before looking for due deliveries again: the bound on
# the delay from an alert's commit to its first send.
POLL_SECONDS = 0.25


class Command(BaseCommand):
    help = "Send notification deliveries (webhook, Slack, email) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=POLL_SECONDS)

    def handle(self, *args: Any, interval: float, **options: Any) -> None:
        worker.recover_abandoned()
        stop = threading.Event()
        threading.Thread(
            target=worker.recover_periodically, args=(stop,), daemon=True, name="recover"
        ).start()
        runner = Worker(
            queue_names=[QUEUE],
            interval=interval,
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker.worker_id(),
            excluded_queue_names=[],
        )
        runner.configure_signals()
        self.stdout.write(f"Sending notifications (worker {runner.worker_id})")
        try:
            runner.run()
        finally:
            stop.set()
