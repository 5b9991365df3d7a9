"""Redis stopped: ingestion, the API and detection keep working, pushes are skipped and
/healthz reports the channel layer; when Redis returns, pushes resume without a restart.

Runs its own redis-server on a free port: the machine's shared Redis is never touched.
"""

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.request
from urllib.error import HTTPError

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from secalerts.rules.services import create_rule
from tests.e2e.conftest import free_port

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def start_redis(port: int) -> subprocess.Popen:
    """redis-server on the port, returned once it says it is ready (sd_notify READY=1)."""
    assert REDIS_SERVER is not None  # the module is skipped without it
    with tempfile.TemporaryDirectory() as directory:
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(f"{directory}/notify")
        notify.settimeout(10)
        process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--supervised", "systemd"],
            env=os.environ | {"NOTIFY_SOCKET": f"{directory}/notify"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with notify:
            while b"READY=1" not in notify.recv(4096).split(b"\n"):
                pass
    return process


def call(method: str, url: str, body: object = None, header: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=None if body is None else json.dumps(body).encode(), method=method
    )
    request.add_header("Content-Type", "application/json")
    if header:
        request.add_header("Authorization", header)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw[:300].decode(errors="replace")}


async def alert_for(websocket, source: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(websocket.recv(), timeout=10))
        if message.get("type") == "alert.created" and message["alert"]["group"]["source"] == source:
            return message


async def pushed_again(websocket, events: str, header: str) -> dict:
    """The push of an alert raised once Redis is back. The layer reconnects on its own,
    not at once: until it has, each new alert's push is skipped (the first wait times
    out), so each attempt raises a new one."""
    for attempt in range(20):
        source = f"after-{attempt}"
        await sync_to_async(call)(
            "POST", events, {"event_type": "malware.detected", "source": source}, header
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                return await alert_for(websocket, source)
    raise AssertionError("no push after Redis came back")


@pytest.mark.asyncio
async def test_service_survives_a_redis_outage_and_pushes_again_after(
    start_daphne, analyst_user, bearer
):
    port = free_port()
    redis = await sync_to_async(start_redis)(port)
    try:
        await database_sync_to_async(create_rule)(
            name="Malware", severity="critical", group_by=["source"],
            condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        )  # fmt: skip
        base = await sync_to_async(start_daphne)(REDIS_URL=f"redis://127.0.0.1:{port}/0")
        header = bearer(analyst_user)
        events = f"{base}/api/events/"
        ws_url = base.replace("http", "ws") + f"/ws/alerts/?token={header.split()[1]}"

        async with connect(ws_url) as websocket:
            await sync_to_async(call)(
                "POST", events, {"event_type": "malware.detected", "source": "before"}, header
            )
            assert (await alert_for(websocket, "before"))["alert"]["severity"] == "critical"

            redis.terminate()
            await sync_to_async(redis.wait)()
            during = await sync_to_async(call)(
                "POST", events, {"event_type": "malware.detected", "source": "during"}, header
            )
            listed = await sync_to_async(call)("GET", f"{base}/api/alerts/", None, header)
            health = await sync_to_async(call)("GET", f"{base}/healthz")

            redis = await sync_to_async(start_redis)(port)
            after = await pushed_again(websocket, events, header)

        assert during[0] == 201
        assert during[1]["alerts"]  # detection still ran and raised the alert
        assert listed[0] == 200
        assert set(during[1]["alerts"]) <= {alert["id"] for alert in listed[1]["results"]}
        assert health == (
            503,
            {"status": "unavailable", "database": "ok", "channel_layer": "unavailable"},
        )
        assert after["alert"]["group"]["source"].startswith("after")
    finally:
        redis.terminate()
        redis.wait()


@pytest.mark.asyncio
async def test_without_redis_the_stream_asks_clients_to_retry_and_login_says_when(
    start_daphne, analyst_user, bearer
):
    base = await sync_to_async(start_daphne)(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    ws_url = base.replace("http", "ws") + f"/ws/alerts/?token={bearer(analyst_user).split()[1]}"

    async with connect(ws_url) as websocket:  # the handshake succeeds: no HTTP 500
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), timeout=15)
    login = urllib.request.Request(
        f"{base}/api/token/",
        data=json.dumps({"username": analyst_user.username, "password": "x"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(HTTPError) as refused:
        await sync_to_async(urllib.request.urlopen)(login, timeout=15)

    with refused.value as answer:
        body = json.loads(answer.read())
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4503
    assert answer.code == 503
    assert answer.headers["Retry-After"] == "5"
    assert body["code"] == "throttle_state_unavailable"
