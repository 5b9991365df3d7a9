"""A real Daphne server in a subprocess, serving the test database over a real socket."""

import contextlib
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import HTTPError

import pytest
from django.conf import settings
from django.db import connection

from tests.waiting import wait_until

DAPHNE = Path(sys.executable).with_name("daphne")
# Servers the tests start name themselves to PostgreSQL with this, so a test can wait
# for what they are still running.
SERVER_APPLICATION_NAME = "secalerts-test-server"


class ServerURL(str):
    """The server's base URL, carrying its process for tests that stop or kill it."""

    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for a server in another process."""
    db = connection.settings_dict
    if settings.IS_POSTGRES:
        user = db["USER"] or ""
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        return (
            f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={SERVER_APPLICATION_NAME}"
        )
    return f"sqlite:///{db['NAME']}"


def server_queries_running() -> int:
    """Statements servers in other processes are running on the test database now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND state <> 'idle'",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def transactional_db(transactional_db: None) -> Iterator[None]:
    """pytest-django's, whose flush at the end first waits for the statements a server
    still runs (a request its client gave up on): on PostgreSQL, TRUNCATE beside a
    query joining two of its tables deadlocks."""
    yield
    if settings.IS_POSTGRES:
        wait_until(lambda: not server_queries_running(), 30, "servers' statements to end")


def listening_socket() -> socket.socket:
    """A socket listening on a free port, for a server to inherit (`daphne --fd`)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.set_inheritable(True)
    return listener


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    """For servers that bind their own port (`serve`, the syslog listener)."""

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    wait_until(listening, timeout, f"a server listening on {port}")


def wait_for_answer(url: str, timeout: float = 60) -> None:
    """Block until the server answers a request (any status): it is serving."""
    with contextlib.suppress(HTTPError):
        urllib.request.urlopen(f"{url}/healthz", timeout=timeout).close()


@pytest.fixture
def start_daphne(transactional_db: None) -> Iterator[Callable[..., str]]:
    """Start Daphne processes on free ports; returns their base URLs ("http://127.0.0.1:N")."""
    processes: list[subprocess.Popen] = []

    def start(**extra_env: str) -> ServerURL:
        # Bound here, so connections wait in its backlog until Daphne accepts them.
        listener = listening_socket()
        port = listener.getsockname()[1]
        env = (
            os.environ
            | {
                "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
                "DATABASE_URL": test_database_url(),
                "LOG_LEVEL": "WARNING",
            }
            | extra_env
        )
        with listener:  # then Daphne's copy alone: a dead server's port refuses at once
            process = subprocess.Popen(
                [str(DAPHNE), "--fd", str(listener.fileno()), "security_backend.asgi:application"],
                cwd=settings.BASE_DIR,
                env=env,
                pass_fds=[listener.fileno()],
                # Not a pipe: nobody reads it, and a full pipe would stall the server.
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        processes.append(process)
        url = ServerURL(f"http://127.0.0.1:{port}")
        wait_for_answer(url)
        url.process = process
        return url

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
