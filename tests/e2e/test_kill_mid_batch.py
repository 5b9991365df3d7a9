"""A server killed in the middle of a batch leaves all of it or none; a retry with the same
ids then stores each event exactly once."""

import json
import signal
import socket
import time
import uuid
from urllib.parse import urlparse

import pytest

from secalerts.events.models import Event


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


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_killed_batch_is_all_or_nothing_and_the_retry_completes_it(
    start_daphne, analyst_user, bearer, delay
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

    sock = send_without_waiting(base, body, header)
    time.sleep(delay)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    sock.close()
    stored_after_kill = Event.objects.count()
    retry_status = post(start_daphne(), body, header)

    assert stored_after_kill in {0, 1000}
    assert retry_status == 201
    assert Event.objects.count() == 1000
