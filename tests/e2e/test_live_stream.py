"""The alert stream on real Daphne processes with a real WebSocket client (`websockets`)."""

import asyncio
import json
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from secalerts.alerts.tests.factories import AlertFactory


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


async def close_code(url: str) -> int:
    async with connect(url) as websocket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), timeout=5)
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
