"""A real Daphne server in a subprocess, serving the test database over a real socket."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

DAPHNE = Path(sys.executable).with_name("daphne")


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
        return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"daphne did not listen on {port} within {timeout}s")


@pytest.fixture
def start_daphne(transactional_db: None) -> Iterator[Callable[..., str]]:
    """Start Daphne processes on free ports; returns their base URLs ("http://127.0.0.1:N")."""
    processes: list[subprocess.Popen] = []

    def start(**extra_env: str) -> ServerURL:
        port = free_port()
        env = (
            os.environ
            | {
                "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
                "DATABASE_URL": test_database_url(),
                "LOG_LEVEL": "WARNING",
            }
            | extra_env
        )
        process = subprocess.Popen(
            [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "security_backend.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            # Not a pipe: nobody reads it, and a full pipe would stall the server.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        wait_for_port(port, process)
        url = ServerURL(f"http://127.0.0.1:{port}")
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
