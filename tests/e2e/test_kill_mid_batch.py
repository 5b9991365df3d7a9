"""A server killed in the middle of a batch leaves all of it or none; a retry with the same
ids then stores each event exactly once."""

import json
import signal
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from secalerts.events.models import Event
from tests.waiting import wait_until


def send_without_waiting(base: str, body: bytes, header: str) -> socket.socket:
    url = urlparse(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = (
        f"POST /api/events/ HTTP/1.1\r\nHost: {url.hostname}\r\nAuthorization: {header}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def post(base: str, body: bytes, header: str) -> int:
    sock = send_without_waiting(base, body, header)
    status = int(sock.recv(64).split()[1])
    sock.close()
    return status


def write_seen() -> Callable[[], bool]:
    """Whether the database has seen a write since this was called: a transaction under
    way or committed (the events table locked for writing on PostgreSQL, the SQLite WAL
    file written to)."""
    if settings.IS_POSTGRES:

        def seen() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation"
                    " WHERE relname = 'events_event' AND mode = 'RowExclusiveLock'"
                    " AND pid <> pg_backend_pid()"
                )
                return cursor.fetchone() is not None or Event.objects.exists()

        return seen
    wal = Path(f"{connection.settings_dict['NAME']}-wal")
    before = wal.stat().st_mtime_ns if wal.exists() else None
    return lambda: (wal.exists() and wal.stat().st_mtime_ns != before) or Event.objects.exists()


@pytest.mark.parametrize("kill_when", ["sent", "writing"])
def test_killed_batch_is_all_or_nothing_and_the_retry_completes_it(
    start_daphne, analyst_user, bearer, kill_when
):
    header = bearer(analyst_user)
    batch = [
        {
            "id": str(uuid.uuid4()),
            "event_type": "auth.failure",
            "source": "vpn",
            "source_ip": f"198.51.100.{i % 200}",
        }
        for i in range(1000)
    ]
    body = json.dumps(batch).encode()
    base = start_daphne()
    victim = base.process

    written = write_seen()
    sock = send_without_waiting(base, body, header)
    if kill_when == "writing":  # or just written: the write may be over when seen
        wait_until(written, 30, "the batch being written")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    sock.close()
    stored_after_kill = Event.objects.count()
    retry_status = post(start_daphne(), body, header)

    assert stored_after_kill in {0, 1000}
    assert retry_status == 201
    assert Event.objects.count() == 1000
