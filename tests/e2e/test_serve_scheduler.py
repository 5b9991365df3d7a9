"""`manage.py serve` runs one scheduler of the periodic jobs beside its workers, and
stops it with them."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from secalerts.jobs.tests.test_command import hit_pack
from secalerts.rules.models import ThresholdHitPack
from tests.e2e import conftest as e2e


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


class LogLines:
    """A process's output, line by line, read as it comes (a full pipe would stall it)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None  # started with stdout=PIPE
        self._output = process.stdout
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._output:
            self.lines.put(line)

    def close(self) -> None:
        """Once the process and its children have exited (the pipe's end)."""
        self._reader.join(timeout=10)
        self._output.close()


def wait_for_job(log: LogLines, name: str, timeout: float = 60) -> dict[str, object]:
    """The scheduler's log entry for a run of this job, once it is written."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = log.lines.get(timeout=left)
        except queue.Empty:
            break
        if line.startswith("{") and (entry := json.loads(line)).get("job") == name:
            return entry
    raise AssertionError(f"no run of {name} logged within {timeout}s")


def test_serve_runs_the_jobs_in_one_scheduler_and_stops_it(transactional_db):
    lifetime = timedelta(seconds=settings.THRESHOLD_STATE_SECONDS)
    expired = hit_pack(age=lifetime + timedelta(hours=1))
    live = hit_pack(age=lifetime - timedelta(hours=1))
    port = e2e.free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-syslog", "--no-notify"],
        cwd=settings.BASE_DIR,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
            "DATABASE_URL": e2e.test_database_url(),
            "LOG_LEVEL": "INFO",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = LogLines(server)
    try:
        e2e.wait_for_port(port, server)
        run = wait_for_job(log, "prune_thresholds")  # at once, on start

        assert run["level"] == "INFO"
        assert run["result"] == 1
        assert list(ThresholdHitPack.objects.values_list("pk", flat=True)) == [live.pk]
        assert not ThresholdHitPack.objects.filter(pk=expired.pk).exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        children = children_of(server.pid)
        schedulers = [pid for pid in children if "manage.py scheduler" in command_of(pid)]
        assert len(schedulers) == 1  # one per `serve`, not one per worker
        assert len(children) == 2  # and the worker

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
