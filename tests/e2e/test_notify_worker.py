"""`manage.py notify_worker` as its own process: killed with SIGKILL in the middle of
sending, nothing is lost once a worker runs again; `serve` runs one and stops it."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from secalerts.notifications import services
from secalerts.notifications.models import Delivery, DeliveryStatus
from secalerts.notifications.tests.helpers import raise_alerts
from secalerts.notifications.tests.receivers import webhook_receiver
from tests.e2e import conftest as e2e
from tests.waiting import wait_until

SECRET = "s3cret"


def environment() -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": e2e.test_database_url(),
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def start_worker(transactional_db: None) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "notify_worker"],
            cwd=settings.BASE_DIR,
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def all_sent() -> bool:
    return not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_a_worker_killed_mid_send_loses_nothing_once_a_worker_runs_again(start_worker):
    with webhook_receiver() as receiver:
        receiver.hold = threading.Event()  # the receiver keeps the first sends waiting
        services.create_channel(
            name="hook", kind="webhook", url=receiver.url, secret=SECRET, on=["alert.created"]
        )
        raise_alerts(500)
        first = start_worker()
        wait_until(lambda: receiver.waiting > 0, 60, "the worker in the middle of sending")

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
        abandoned = DBTaskResult.objects.filter(status="RUNNING").count()
        receiver.release()
        start_worker()
        wait_until(all_sent, 120, "every delivery sent by the second worker")

        accepted = receiver.delivery_ids()
        assert all(r.signed_by(SECRET) for r in receiver.received)
    assert abandoned == 1  # the task the killed worker was running
    assert set(accepted) == {str(pk) for pk in Delivery.objects.values_list("pk", flat=True)}
    assert len(set(accepted)) == 500
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_serve_runs_one_notification_worker_and_stops_it(transactional_db):
    port = e2e.free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            "--port",
            str(port),
            "--no-syslog",
            "--no-scheduler",
        ],
        cwd=settings.BASE_DIR,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with webhook_receiver() as receiver:
            services.create_channel(
                name="hook", kind="webhook", url=receiver.url, on=["alert.created"]
            )
            e2e.wait_for_port(port, server)
            raise_alerts(3)
            wait_until(lambda: len(receiver.delivery_ids()) == 3, 60, "serve's worker to send")
        children = children_of(server.pid)
        workers = [pid for pid in children if "manage.py notify_worker" in command_of(pid)]
        assert len(workers) == 1
        assert len(children) == 2  # and the web worker

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
