"""A suppression on a live server: a covered match pushes nothing to a real WebSocket
client (the next message it gets is the uncovered match's alert), but is counted."""

import json
import urllib.request
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone
from websockets.asyncio.client import connect

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule
from tests.e2e.test_live_stream import next_message, post_events, ws_url


def post_json(base: str, path: str, body: dict, header: str) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get_json(base: str, path: str, header: str) -> dict:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": header})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.asyncio
async def test_a_suppressed_match_pushes_nothing_and_is_counted(
    start_daphne, admin_user, analyst_user, bearer
):
    await database_sync_to_async(Rule.objects.all().delete)()
    rule = await database_sync_to_async(create_rule)(
        name="Malware",
        severity="critical",
        condition={"field": "event_type", "op": "eq", "value": "malware.detected"},
        group_by=["source"],
    )
    base = await sync_to_async(start_daphne)()
    admin = bearer(admin_user)
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    suppression = await sync_to_async(post_json)(
        base,
        "/api/suppressions/",
        {"rule": rule.pk, "group": {"source": "lab-edr"}, "reason": "lab", "expires_at": expires},
        admin,
    )

    async with connect(ws_url(base, bearer(analyst_user))) as websocket:
        await websocket.send(json.dumps({"type": "ping"}))
        assert await next_message(websocket) == {"type": "pong"}
        covered = [{"event_type": "malware.detected", "source": "lab-edr"}]
        uncovered = [{"event_type": "malware.detected", "source": "prod-edr"}]
        assert await sync_to_async(post_events)(base, covered, admin) == 201
        assert await sync_to_async(post_events)(base, uncovered, admin) == 201
        message = await next_message(websocket)

    assert message["type"] == "alert.created"
    assert message["alert"]["group"] == {"source": "prod-edr"}
    groups = await database_sync_to_async(
        lambda: list(Alert.objects.values_list("group", flat=True))
    )()
    assert groups == [{"source": "prod-edr"}]
    row = await sync_to_async(get_json)(base, f"/api/suppressions/{suppression['id']}/", admin)
    assert row["hits"] == 1
