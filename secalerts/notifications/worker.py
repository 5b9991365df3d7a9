"""The delivery worker: django-tasks-db's database worker on the notifications queue,
plus what it lacks for at-least-once after a crash.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it
again: a worker killed mid-task (kill -9, power loss) would leave its deliveries
unsent forever. Tasks claimed by a worker of this host whose process is gone, or
claimed longer ago than any task can run, go back to READY, at start and every
minute; a re-run sends again only what is still pending (receivers drop repeats by
delivery_id).
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from secalerts.notifications.tasks import QUEUE

logger = logging.getLogger(__name__)
# Longer than any task can run: DELIVERIES_PER_TASK sends over SEND_THREADS threads,
# each at most transport.TIMEOUT_SECONDS (x2 for connect and read) or an SMTP timeout.
ABANDONED_AFTER = timedelta(minutes=15)
RECOVERY_INTERVAL_SECONDS = 60


def worker_id() -> str:
    """host:pid, so a worker can tell its dead neighbours' claims from live ones."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _process_gone(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_abandoned() -> int:
    """Put tasks whose worker died back in the queue; returns how many."""
    now = timezone.now()
    abandoned = [
        task.pk
        for task in DBTaskResult.objects.filter(status="RUNNING", queue_name=QUEUE).only(
            "id", "worker_ids", "started_at"
        )
        if (task.worker_ids and _process_gone(task.worker_ids[-1]))
        or (task.started_at is not None and task.started_at < now - ABANDONED_AFTER)
    ]
    if not abandoned:
        return 0
    count = DBTaskResult.objects.filter(pk__in=abandoned, status="RUNNING").update(
        status="READY", started_at=None
    )
    logger.warning("requeued %d notification task(s) of workers that died", count)
    return count


def recover_periodically(stop: threading.Event) -> None:
    while not stop.wait(RECOVERY_INTERVAL_SECONDS):
        try:
            recover_abandoned()
        except Exception:
            logger.exception("recovering abandoned notification tasks failed")
        finally:
            close_old_connections()
            connection.close()
