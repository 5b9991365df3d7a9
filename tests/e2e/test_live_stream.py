"""The alert stream on real Daphne processes with a real WebSocket client (`websockets`)."""

import asyncio
import base64
import json
import os
import select
import socket
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from secalerts.alerts.tests.factories import AlertFactory
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule


def patch(base: str, path: str, body: dict, header: str) -> int:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def ws_url(base: str, header: str | None) -> str:
    token = f"?token={header.split()[1]}" if header else ""
    return base.replace("http://", "ws://") + "/ws/alerts/" + token


async def next_message(websocket) -> dict:
    return json.loads(await asyncio.wait_for(websocket.recv(), timeout=5))


async def next_messages(websocket, count: int) -> list[dict]:
    return [await next_message(websocket) for _ in range(count)]


async def close_code(url: str) -> int:
    async with connect(url) as websocket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), timeout=5)
    assert closed.value.rcvd is not None  # the server sent a close frame
    return closed.value.rcvd.code


@pytest.mark.asyncio
async def test_client_sees_4401_and_4403_close_codes(start_daphne, norole_user, bearer):
    base = await sync_to_async(start_daphne)()

    assert await close_code(ws_url(base, None)) == 4401
    assert await close_code(ws_url(base, "Bearer garbage")) == 4401
    assert await close_code(ws_url(base, bearer(norole_user))) == 4403


@pytest.mark.asyncio
async def test_change_through_http_is_pushed_to_a_real_client(
    start_daphne, admin_user, analyst_user, bearer
):
    base = await sync_to_async(start_daphne)()
    alert = await database_sync_to_async(AlertFactory)()

    async with connect(ws_url(base, bearer(analyst_user))) as websocket:
        await websocket.send(json.dumps({"type": "ping"}))
        assert await next_message(websocket) == {"type": "pong"}
        status = await sync_to_async(patch)(
            base, f"/api/alerts/{alert.pk}/", {"status": "resolved"}, bearer(admin_user)
        )
        message = await next_message(websocket)

    assert status == 200
    assert message["type"] == "alert.updated"
    assert (message["alert"]["id"], message["alert"]["status"]) == (alert.pk, "resolved")


@pytest.mark.requires_redis
@pytest.mark.asyncio
async def test_alert_changed_through_one_process_reaches_a_client_of_another(
    start_daphne, admin_user, analyst_user, bearer
):
    first = await sync_to_async(start_daphne)()
    second = await sync_to_async(start_daphne)()
    alert = await database_sync_to_async(AlertFactory)()

    async with connect(ws_url(first, bearer(analyst_user))) as websocket:
        await websocket.send(json.dumps({"type": "ping"}))
        await next_message(websocket)  # connected and subscribed to the group
        await sync_to_async(patch)(
            second, f"/api/alerts/{alert.pk}/", {"status": "acknowledged"}, bearer(admin_user)
        )
        message = await next_message(websocket)

    assert message["alert"]["id"] == alert.pk
    assert message["alert"]["status"] == "acknowledged"


def post_events(base: str, events: list[dict], header: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/events/",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def stalled_client(base: str, header: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads again."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/alerts/?token={header.split()[1]} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


@pytest.mark.asyncio
async def test_a_client_that_stops_reading_holds_up_neither_ingestion_nor_others(
    start_daphne, analyst_user, bearer
):
    # One rule, whatever an earlier test's flush left of the shipped ones.
    await database_sync_to_async(Rule.objects.all().delete)()
    await database_sync_to_async(create_rule)(
        name="Malware",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )
    base = await sync_to_async(start_daphne)()
    header = bearer(analyst_user)
    stalled = await sync_to_async(stalled_client)(base, header)
    batches = [
        [{"event_type": "malware.detected", "source": f"edr-{b}-{i}"} for i in range(100)]
        for b in range(15)
    ]

    with stalled:
        async with connect(ws_url(base, header)) as healthy:
            await healthy.send(json.dumps({"type": "ping"}))
            await next_message(healthy)
            # Read as a live client does, while the pushes flow.
            reading = asyncio.create_task(next_messages(healthy, 1500))
            statuses = [await sync_to_async(post_events)(base, b, header) for b in batches]
            received = await reading

    assert statuses == [201] * 15
    # 1,500 pushes of about 700 bytes: far more than the stalled socket's buffers hold.
    assert {m["alert"]["group"]["source"] for m in received} == {
        e["source"] for b in batches for e in b
    }


def ended_by_server(sock: socket.socket, timeout: float = 10) -> bool:
    """Whether the server ends the connection (FIN or reset) within `timeout`, waited for
    with poll(2) on the peer's hang-up alone: reading would drain the server's buffer and
    so change the test."""
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP)  # hang-ups and errors are always reported
    return bool(poller.poll(timeout * 1000))


def read_all(sock: socket.socket) -> int:
    """Bytes the server had sent before it ended the connection."""
    sock.settimeout(10)
    read = 0
    try:
        while chunk := sock.recv(65536):
            read += len(chunk)
    except ConnectionResetError:
        pass
    return read


async def add_malware_rule() -> None:
    await database_sync_to_async(Rule.objects.all().delete)()
    await database_sync_to_async(create_rule)(
        name="Malware",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )


@pytest.mark.asyncio
async def test_a_client_that_falls_too_far_behind_is_closed_and_others_get_every_push(
    start_daphne, analyst_user, bearer
):
    await add_malware_rule()
    base = await sync_to_async(start_daphne)(STREAM_MAX_BEHIND_MESSAGES="100")
    header = bearer(analyst_user)
    stalled = await sync_to_async(stalled_client)(base, header)
    # Batches of 500: each burst of pushes is written before the server sends any of it,
    # which a reading client must not be closed for.
    batches = [
        [{"event_type": "malware.detected", "source": f"edr-{b}-{i}"} for i in range(500)]
        for b in range(3)
    ]

    with stalled:
        async with connect(ws_url(base, header)) as healthy:
            await healthy.send(json.dumps({"type": "ping"}))
            await next_message(healthy)
            reading = asyncio.create_task(next_messages(healthy, 1500))
            for batch in batches:
                await sync_to_async(post_events)(base, batch, header)
            received = await reading
        closed_by_server = await sync_to_async(ended_by_server)(stalled)
        read = await sync_to_async(read_all)(stalled)

    assert closed_by_server
    assert read < sum(len(json.dumps(m)) for m in received)  # the rest was dropped
    assert len({m["alert"]["id"] for m in received}) == 1500


@pytest.mark.asyncio
async def test_a_client_that_stays_behind_too_long_is_closed_without_more_pushes(
    start_daphne, analyst_user, bearer
):
    await add_malware_rule()
    base = await sync_to_async(start_daphne)(
        STREAM_MAX_BEHIND_SECONDS="1", STREAM_SEND_BUFFER_BYTES="16384"
    )
    header = bearer(analyst_user)
    stalled = await sync_to_async(stalled_client)(base, header)
    batches = [
        [{"event_type": "malware.detected", "source": f"edr-{b}-{i}"} for i in range(100)]
        for b in range(4)
    ]

    with stalled:
        for batch in batches:  # enough to fill the stalled socket's buffers, then no more
            await sync_to_async(post_events)(base, batch, header)
        closed_by_server = await sync_to_async(ended_by_server)(stalled)

    assert closed_by_server
