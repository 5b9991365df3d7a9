"""The database restarted under load: requests in flight get 503 (not 500, not a hang),
and the service recovers by itself.

Runs a private PostgreSQL cluster (initdb/pg_ctl on a free port, as the postgres user):
the machine's shared server is never stopped.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest
from django.conf import settings

from tests.e2e.conftest import free_port, wait_for_port

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
PASSWORD = "restart-test-password-123456"
pytestmark = [
    pytest.mark.requires_postgres,
    pytest.mark.skipif(
        not BIN or os.geteuid() != 0,
        reason="needs PostgreSQL binaries and root to run them as postgres",
    ),
]


def as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


class Cluster:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="secalerts-pg-")
        shutil.chown(self.directory, "postgres", "postgres")
        self.data = f"{self.directory}/data"
        self.port = free_port()
        as_postgres(f"{BIN[-1]}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres")

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        # -l: the server's output goes to a file, not to the pipe this call waits on.
        as_postgres(
            f"{BIN[-1]}/pg_ctl", "-D", self.data, "-l", f"{self.directory}/log", "-o", options,
            "-w", "-m", "fast", action,
        )  # fmt: skip

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                f"{BIN[-1]}/pg_ctl",
                "-D",
                self.data,
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except HTTPError as error:
        return error.code
    except (URLError, TimeoutError):
        return 0


def test_requests_during_a_restart_get_503_and_the_service_recovers():
    cluster = Cluster()
    server = None
    try:
        cluster.pg_ctl("start")
        env = os.environ | {
            "DATABASE_URL": cluster.url(),
            "DJANGO_SETTINGS_MODULE": "security_backend.settings",
            "LOG_LEVEL": "CRITICAL",
            "THROTTLE_USER_RATE": "",
        }
        env.pop("REDIS_URL", None)
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True, timeout=120
        )
        subprocess.run(
            [*manage, "create_user", "shipper", "--role", "analyst", "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                "-p",
                str(port),
                "security_backend.asgi:application",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        login = urllib.request.Request(
            f"{base}/api/token/",
            data=json.dumps({"username": "shipper", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(login, timeout=15) as response:
            access = json.loads(response.read())["access"]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
        body = json.dumps(
            [{"event_type": "auth.failure", "source": "vpn", "source_ip": "192.0.2.7"}] * 50
        ).encode()
        statuses: Counter[int] = Counter()
        stop, served = threading.Event(), threading.Event()
        restarted, recovered = threading.Event(), threading.Event()

        def load() -> None:
            while not stop.is_set():
                status = post(f"{base}/api/events/", body, headers)
                statuses[status] += 1
                if status == 201:
                    served.set()
                    if restarted.is_set():
                        recovered.set()

        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        served.wait(60)  # under load: requests are being stored
        cluster.pg_ctl("restart")  # -w: returns once the database is back
        restarted.set()
        recovered.wait(60)  # a request stored again, without restarting the server
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        after = [post(f"{base}/api/events/", body, headers) for _ in range(5)]

        assert not any(worker.is_alive() for worker in workers), "a request hung"
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[201] > 0
        assert statuses[503] > 0  # the restart did catch requests in flight
        assert after[-1] == 201, (after, statuses)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        cluster.remove()
