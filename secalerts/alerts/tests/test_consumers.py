"""The alert stream through the full ASGI application: auth closes, filtering, pushes."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts.tests.bad_tokens import BAD_TOKENS
from secalerts.alerts.broadcast import broadcaster
from secalerts.alerts.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    AlertStreamConsumer,
)
from secalerts.alerts.notifications import ALERTS_GROUP, notify_alerts
from secalerts.alerts.services.triage import change_alert
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.ingest.endpoint import post_events
from secalerts.rules.services import create_rule
from security_backend.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
NO_ORIGIN: list = []


async def connect(token: str | None = None, headers=NO_ORIGIN):
    path = "/ws/alerts/" + (f"?token={token}" if token else "")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@database_sync_to_async
def token_for(user) -> str:
    return str(AccessToken.for_user(user))


@pytest.mark.parametrize("token", [None, "garbage", "a.b.c"])
async def test_stream_closes_with_4401_without_a_valid_token(token):
    communicator, connected = await connect(token)

    closing = await communicator.receive_output(timeout=2)

    assert connected
    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_stream_closes_with_4403_for_a_user_without_role(norole_user):
    communicator, _ = await connect(await token_for(norole_user))

    assert await communicator.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": CLOSE_FORBIDDEN,
    }


async def test_ping_subscribe_and_malformed_messages(analyst_user):
    communicator, _ = await connect(await token_for(analyst_user))

    await communicator.send_json_to({"type": "ping"})
    pong = await communicator.receive_json_from(timeout=2)
    await communicator.send_to(text_data="not json")
    error = await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to({"type": "subscribe", "severity_min": "extreme"})
    bad_level = await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to([1, 2])
    not_object = await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to({"type": "ping"})
    still_open = await communicator.receive_json_from(timeout=2)

    assert pong == {"type": "pong"}
    assert error["type"] == bad_level["type"] == not_object["type"] == "error"
    assert still_open == {"type": "pong"}
    await communicator.disconnect()


async def test_triage_change_is_pushed_after_commit(analyst_user, admin_user):
    alert = await database_sync_to_async(AlertFactory)()
    communicator, _ = await connect(await token_for(analyst_user))

    await database_sync_to_async(change_alert)(
        alert_id=alert.pk, actor=admin_user, status="acknowledged"
    )
    message = await communicator.receive_json_from(timeout=3)

    assert message["type"] == "alert.updated"
    assert message["alert"]["id"] == alert.pk
    assert message["alert"]["status"] == "acknowledged"
    await communicator.disconnect()


async def test_alert_raised_by_ingestion_is_pushed_and_severity_filter_applies(analyst_user):
    await database_sync_to_async(create_rule)(
        name="Malware detected",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )
    communicator, _ = await connect(await token_for(analyst_user))
    await communicator.send_json_to({"type": "subscribe", "severity_min": "critical"})
    await communicator.receive_json_from(timeout=2)

    high = json.dumps({"event_type": "x.y", "source": "s", "severity": "high"}).encode()
    await database_sync_to_async(post_events)(high, "application/json", sender=None)
    assert await communicator.receive_nothing(timeout=0.5)
    malware = json.dumps({"event_type": "malware.detected", "source": "edr-1"}).encode()
    await database_sync_to_async(post_events)(malware, "application/json", sender=None)
    message = await communicator.receive_json_from(timeout=3)

    assert message["type"] == "alert.created"
    assert message["alert"]["title"] == "Malware detected: edr-1"
    assert message["alert"]["severity"] == "critical"
    await communicator.disconnect()


async def test_a_burst_of_pushes_reaches_every_client_whole(analyst_user, monkeypatch):
    # More pushes at once than the channel layer queues per channel (100 in memory):
    # with every client in the group, each client kept only the first 100.
    alerts = await database_sync_to_async(AlertFactory.create_batch)(300, severity="low")
    layer = get_channel_layer()
    assert layer is not None
    sent = []

    async def group_send(group, message):
        sent.append(len(message["pushes"]) if group == ALERTS_GROUP else None)
        await original(group, message)

    original = layer.group_send
    monkeypatch.setattr(layer, "group_send", group_send)
    clients = [(await connect(await token_for(analyst_user)))[0] for _ in range(10)]
    for client in clients:  # answered once connect() has subscribed the client
        await client.send_json_to({"type": "ping"})
        await client.receive_json_from(timeout=2)

    await database_sync_to_async(notify_alerts)(created=[alert.pk for alert in alerts])

    for client in clients:
        received = [await client.receive_json_from(timeout=5) for _ in alerts]
        assert [m["alert"]["id"] for m in received] == [alert.pk for alert in alerts]
        assert {m["type"] for m in received} == {"alert.created"}
        assert await client.receive_nothing(timeout=0.1)
        await client.disconnect()
    assert sent == [100, 100, 100]  # a channel-layer message per 100 pushes, not per push


async def test_a_push_sent_alone_as_the_previous_release_did_still_arrives(analyst_user):
    """During a rolling upgrade, processes of the last release send one push a message."""
    client, _ = await connect(await token_for(analyst_user))
    await client.send_json_to({"type": "ping"})
    await client.receive_json_from(timeout=2)
    text = json.dumps({"type": "alert.created", "alert": {"id": 7, "severity": "low"}})

    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(ALERTS_GROUP, {"type": "alert.created", "severity": "low", "text": text})

    assert (await client.receive_json_from(timeout=2))["alert"]["id"] == 7
    await client.disconnect()


async def test_browser_origin_must_be_an_allowed_host(analyst_user):
    token = await token_for(analyst_user)

    _, foreign = await connect(token, headers=[(b"origin", b"https://evil.example")])
    allowed, local = await connect(token, headers=[(b"origin", b"http://localhost:8000")])

    assert not foreign
    assert local
    await allowed.disconnect()


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_every_bad_token_kind_closes_with_4401(analyst_user, kind):
    communicator, _ = await connect(await database_sync_to_async(BAD_TOKENS[kind])(analyst_user))

    assert await communicator.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }


@pytest.mark.parametrize("change", ["deactivate", "delete"])
async def test_token_of_deactivated_or_deleted_user_closes_with_4401(analyst_user, change):
    token = await token_for(analyst_user)
    if change == "deactivate":
        analyst_user.is_active = False
        await database_sync_to_async(analyst_user.save)()
    else:
        await database_sync_to_async(analyst_user.delete)()

    communicator, _ = await connect(token)

    assert await communicator.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }


async def test_pushed_alerts_are_the_alert_list_items(analyst_user, admin_user, api_client):
    """Pushes read their alerts in plain SQL (payloads.alert_payloads), the API through
    the ORM: both give the same item, to the microsecond, on either database."""
    assigned = await database_sync_to_async(AlertFactory)(
        group={"source_ip": "203.0.113.9", "user": None, "ports": [22, 2222]},
        description="Several failures",
    )
    ruleless = await database_sync_to_async(AlertFactory)(
        rule=None, source_ip=None, group={}, severity="low"
    )
    communicator, _ = await connect(await token_for(analyst_user))

    await database_sync_to_async(change_alert)(
        alert_id=assigned.pk, actor=admin_user, assigned_to=admin_user.username
    )
    await database_sync_to_async(notify_alerts)(created=[ruleless.pk])
    pushed = [await communicator.receive_json_from(timeout=3) for _ in range(2)]
    api_client.force_authenticate(analyst_user)
    listed = await database_sync_to_async(api_client.get)("/api/alerts/")

    items = {item["id"]: item for item in listed.json()["results"]}
    assert [message["type"] for message in pushed] == ["alert.updated", "alert.created"]
    assert [message["alert"] for message in pushed] == [items[assigned.pk], items[ruleless.pk]]
    assert pushed[0]["alert"]["assigned_to"] == admin_user.username
    assert pushed[1]["alert"]["rule"] is None
    await communicator.disconnect()


class FakeClock:
    """The stream's clock, moved by the test: a token expires without waiting for it."""

    def __init__(self) -> None:
        self.seconds = time.time()
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []
        self._waiting = asyncio.Event()

    def time(self) -> float:
        return self.seconds

    async def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        waiter = (self.seconds + seconds, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._waiting.set()
        try:
            await waiter[1]
        finally:
            self._waiters.remove(waiter)

    async def someone_waiting(self) -> None:
        await self._waiting.wait()

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        for wake_at, waiter in self._waiters:
            if wake_at <= self.seconds and not waiter.done():
                waiter.set_result(None)


@pytest.fixture
def stream_clock(monkeypatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(AlertStreamConsumer, "clock", clock)
    return clock


@database_sync_to_async
def short_token_for(user, seconds: int = 20) -> str:
    """Expiring before the stream's first recheck (STREAM_RECHECK_SECONDS, 30)."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


async def open_stream(token: str) -> WebsocketCommunicator:
    communicator, _ = await connect(token)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    return communicator


async def test_stream_closes_with_4401_when_its_token_expires(analyst_user, stream_clock):
    communicator = await open_stream(await short_token_for(analyst_user))
    await stream_clock.someone_waiting()  # the stream, until its token expires
    assert await communicator.receive_nothing()

    stream_clock.advance(20)
    closing = await communicator.receive_output(timeout=5)

    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    assert not broadcaster().listeners  # no pushes are written to a closed stream


async def test_auth_message_with_a_fresh_token_keeps_the_stream_open(analyst_user, stream_clock):
    communicator = await open_stream(await short_token_for(analyst_user))
    await stream_clock.someone_waiting()
    fresh = AccessToken.for_user(analyst_user)

    await communicator.send_json_to({"type": "auth", "token": str(fresh)})
    answer = await communicator.receive_json_from(timeout=2)

    assert answer == {
        "type": "authenticated",
        "expires_at": datetime.fromtimestamp(fresh["exp"], UTC).isoformat().replace("+00:00", "Z"),
    }
    # Past the first token's expiry, the stream stays open on the fresh token.
    stream_clock.advance(25)
    assert await communicator.receive_nothing()
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize("kind", ["garbage", "expired", "missing", "another-user"])
async def test_bad_auth_message_closes_with_4401(analyst_user, admin_user, kind):
    communicator = await open_stream(await token_for(analyst_user))
    token = {
        "garbage": "a.b.c",
        "expired": await database_sync_to_async(BAD_TOKENS["expired"])(analyst_user),
        "missing": None,
        "another-user": await token_for(admin_user),
    }[kind]

    await communicator.send_json_to({"type": "auth", "token": token})

    assert await communicator.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }


async def test_deactivated_user_is_disconnected_at_the_next_recheck(analyst_user, stream_clock):
    communicator = await open_stream(await token_for(analyst_user))
    await stream_clock.someone_waiting()

    analyst_user.is_active = False
    await database_sync_to_async(analyst_user.save)()
    assert await communicator.receive_nothing()  # until the recheck
    stream_clock.advance(30)

    assert await communicator.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }
    assert not broadcaster().listeners


async def test_user_who_loses_their_role_is_disconnected_with_4403(analyst_user, stream_clock):
    communicator = await open_stream(await token_for(analyst_user))
    await stream_clock.someone_waiting()

    await database_sync_to_async(analyst_user.groups.clear)()
    stream_clock.advance(30)

    assert await communicator.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_FORBIDDEN,
    }
