"""Resuming the alert stream (`?since=<seq>`) on real Daphne processes, changes made
through the HTTP API, a real WebSocket client: what changed while the client was away
arrives once each, in order, then the live stream."""

import asyncio
import json
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from secalerts.alerts import changes
from secalerts.alerts.consumers import CLOSE_BAD_REQUEST
from secalerts.alerts.tests.factories import RuleFactory
from secalerts.rules.models import Rule

RESYNC = {"type": "resync"}


def call(base: str, method: str, path: str, body: object, header: str) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


async def raise_alerts(base: str, header: str, prefix: str, count: int) -> list[int]:
    """`count` new alerts (one per source), posted in batches of 100; their ids."""
    ids: list[int] = []
    for start in range(0, count, 100):
        events = [
            {"event_type": "malware.detected", "source": f"{prefix}-{i}"}
            for i in range(start, min(count, start + 100))
        ]
        answer = await sync_to_async(call)(base, "POST", "/api/events/", events, header)
        ids += answer["alerts"]
    return ids


async def set_status(base: str, header: str, ids: list[int], status: str) -> None:
    body = {"ids": ids, "status": status}
    await sync_to_async(call)(base, "PATCH", "/api/alerts/", body, header)


def stream_url(base: str, header: str, **params: object) -> str:
    query = "".join(f"&{name}={value}" for name, value in params.items())
    return f"{base.replace('http://', 'ws://')}/ws/alerts/?token={header.split()[1]}{query}"


async def receive(websocket, count: int) -> list[dict]:
    return [json.loads(await asyncio.wait_for(websocket.recv(), timeout=30)) for _ in range(count)]


async def last_seq_seen(base: str, header: str) -> int:
    """Connects, sees one change pushed, leaves: the seq to resume from."""
    async with connect(stream_url(base, header)) as websocket:
        await websocket.send(json.dumps({"type": "ping"}))
        assert await receive(websocket, 1) == [{"type": "pong"}]  # joined
        await raise_alerts(base, header, "before", 1)
        (seen,) = await receive(websocket, 1)
    return seen["seq"]


@pytest.fixture
def malware_rule(transactional_db):
    """One critical alert per `source` of `malware.detected` events, and no other rule
    (whatever an earlier test's flush left of the shipped ones)."""
    Rule.objects.all().delete()
    return RuleFactory(
        name="Malware",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )


@pytest.fixture
def scan_rule(malware_rule):
    """One low alert per `source` of `port.scan` events."""
    return RuleFactory(
        name="Scan",
        severity="low",
        condition={"field": "event_type", "op": "eq", "value": "port.scan"},
        group_by=["source"],
    )


@pytest.mark.asyncio
async def test_a_client_away_while_500_alerts_change_gets_them_once_each_in_order_then_live(
    start_daphne, admin_user, bearer, malware_rule
):
    base = await sync_to_async(start_daphne)()
    header = bearer(admin_user)
    since = await last_seq_seen(base, header)

    created = await raise_alerts(base, header, "away", 300)
    await set_status(base, header, created[:200], "acknowledged")

    async with connect(stream_url(base, header, since=since)) as websocket:
        replayed = await receive(websocket, 500)
        await set_status(base, header, created[-1:], "resolved")
        (live,) = await receive(websocket, 1)

    assert [m["seq"] for m in replayed] == list(range(since + 1, since + 501))
    assert sorted((m["type"], m["alert"]["id"]) for m in replayed) == sorted(
        [("alert.created", i) for i in created] + [("alert.updated", i) for i in created[:200]]
    )
    assert {m["type"] for m in replayed[:300]} == {"alert.created"}  # as they happened
    assert (live["type"], live["alert"]["id"], live["seq"]) == (
        "alert.updated",
        created[-1],
        since + 501,
    )
    assert live["alert"]["status"] == "resolved"


@pytest.mark.asyncio
async def test_changes_made_during_the_replay_arrive_once_each_in_order(
    start_daphne, admin_user, bearer, malware_rule
):
    base = await sync_to_async(start_daphne)()
    header = bearer(admin_user)
    since = await last_seq_seen(base, header)
    await raise_alerts(base, header, "away", 1000)

    async with connect(stream_url(base, header, since=since)) as websocket:
        # Written while the server replays the thousand (two pages) and after.
        meanwhile = asyncio.create_task(raise_alerts(base, header, "meanwhile", 300))
        received = await receive(websocket, 1300)
        await meanwhile

    assert [m["seq"] for m in received] == list(range(since + 1, since + 1301))
    sources = [m["alert"]["group"]["source"] for m in received]
    assert len(set(sources)) == 1300


@pytest.mark.asyncio
async def test_the_severity_filter_of_the_url_applies_to_the_replay(
    start_daphne, admin_user, bearer, malware_rule, scan_rule
):
    base = await sync_to_async(start_daphne)()
    header = bearer(admin_user)
    since = await last_seq_seen(base, header)
    scans = [{"event_type": "port.scan", "source": f"scanner-{i}"} for i in range(5)]
    await sync_to_async(call)(base, "POST", "/api/events/", scans, header)
    critical = await raise_alerts(base, header, "away", 3)

    url = stream_url(base, header, since=since, severity_min="high")
    async with connect(url) as websocket:
        replayed = await receive(websocket, 3)
        await websocket.send(json.dumps({"type": "ping"}))
        (after,) = await receive(websocket, 1)

    assert sorted(m["alert"]["id"] for m in replayed) == sorted(critical)
    assert [m["seq"] for m in replayed] == list(range(since + 6, since + 9))
    assert after == {"type": "pong"}  # nothing filtered out came between


@pytest.mark.asyncio
async def test_a_client_too_far_behind_is_told_to_resync_then_gets_the_live_stream(
    start_daphne, admin_user, bearer, malware_rule
):
    base = await sync_to_async(start_daphne)()
    header = bearer(admin_user)
    since = await last_seq_seen(base, header)
    await raise_alerts(base, header, "away", 20)
    await database_sync_to_async(changes.prune)(now=timezone.now(), keep_changes=10)

    for stale in (since, since + 9, 10**12):  # pruned, pruned, never given
        async with connect(stream_url(base, header, since=stale)) as websocket:
            assert await receive(websocket, 1) == [RESYNC]
            (ids,) = [await raise_alerts(base, header, f"live-{stale}", 1)]
            (live,) = await receive(websocket, 1)
            assert live["alert"]["id"] == ids[0]
    async with connect(stream_url(base, header, since=since + 11)) as websocket:
        (kept,) = await receive(websocket, 1)  # the oldest kept change onwards
    assert kept["seq"] == since + 12


@pytest.mark.asyncio
@pytest.mark.parametrize("since", ["-1", "abc", "", "1.5", "9" * 30])
async def test_a_malformed_since_gets_an_error_and_close_4400(
    start_daphne, admin_user, bearer, since
):
    base = await sync_to_async(start_daphne)()

    async with connect(stream_url(base, bearer(admin_user), since=since)) as websocket:
        error = json.loads(await asyncio.wait_for(websocket.recv(), timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), timeout=10)

    assert error["type"] == "error"
    assert "since" in error["detail"]
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_BAD_REQUEST


@pytest.mark.requires_redis
@pytest.mark.asyncio
async def test_with_two_processes_a_resumed_client_gets_every_change_once_in_order(
    start_daphne, admin_user, bearer, malware_rule
):
    first = await sync_to_async(start_daphne)()
    second = await sync_to_async(start_daphne)()
    header = bearer(admin_user)
    since = await last_seq_seen(first, header)
    away = await raise_alerts(second, header, "away", 200)

    async with connect(stream_url(first, header, since=since)) as websocket:
        # Both processes write at once: their pushes cross in the channel layer.
        writers = asyncio.gather(
            raise_alerts(first, header, "first", 300), raise_alerts(second, header, "second", 300)
        )
        received = await receive(websocket, 800)
        await writers

    assert [m["seq"] for m in received] == list(range(since + 1, since + 801))
    assert sorted(m["alert"]["id"] for m in received[:200]) == sorted(away)
    assert len({m["alert"]["id"] for m in received}) == 800
