"""`manage.py serve --workers N`: several Daphne workers behind one port, replaced if they die."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.e2e import conftest as e2e
from tests.waiting import wait_for_exit, wait_until


def test_several_workers_without_redis_are_refused(settings):
    settings.REDIS_URL = ""

    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("serve", "--workers", "2", "--port", str(e2e.free_port()))


def workers_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_for_workers(pid: int, count: int) -> list[int]:
    wait_until(lambda: len(workers_of(pid)) == count, 20, f"{count} workers of {pid}")
    return workers_of(pid)


def listening_sockets(port: int) -> list[str]:
    """Inodes of the sockets listening on 127.0.0.1:port (hex in /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return [f[9] for f in map(str.split, lines) if f[1] == wanted and f[3] == "0A"]


def health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return response.status


@pytest.mark.requires_redis
def test_workers_share_one_port_and_a_dead_worker_is_replaced(transactional_db):
    port = e2e.free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": e2e.test_database_url(),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-syslog",
            "--no-scheduler",
            "--no-notify",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        e2e.wait_for_port(port, server)
        first, second = wait_for_workers(server.pid, 2)
        # A socket each: sharing one, the first worker to wake took a whole burst.
        assert len(listening_sockets(port)) == 2
        assert [health(port) for _ in range(20)] == [200] * 20
        # The workers keep the cores busy: no spare ingest writer each (ingest.writer).
        environ = Path(f"/proc/{first}/environ").read_bytes().split(b"\0")
        assert b"EVENTS_SPARE_WRITERS=0" in environ
        refused = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--no-syslog",
                "--no-scheduler",
                "--no-notify",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0
        assert f"Cannot listen on 127.0.0.1:{port}" in refused.stderr

        os.kill(first, signal.SIGKILL)
        wait_for_exit(first, 20)
        # Answered meanwhile: by the survivor, or by the replacement on the dead one's socket.
        statuses = [health(port) for _ in range(20)]
        replaced = wait_for_workers(server.pid, 2)

        assert statuses == [200] * 20
        assert len(listening_sockets(port)) == 2
        assert second in replaced
        assert first not in replaced
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in replaced)
    finally:
        if server.poll() is None:
            server.kill()
