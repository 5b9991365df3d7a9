"""Pushes of new and changed alerts to the channel layer, sent after the transaction commits.

A push that cannot be sent (Redis down) is logged and dropped: ingestion and triage
never fail because of it, and clients catch up through the alert list.
"""

import json
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

from secalerts.alerts.payloads import alert_payloads

ALERTS_GROUP = "alerts"
# Pushes sent as one channel-layer message: each message costs its encoding and, with
# Redis, a round trip of the writer's time (one message per alert of a batch added up);
# every process's broadcaster unpacks them for its clients.
PUSHES_PER_MESSAGE = 100
logger = logging.getLogger(__name__)
# Sent inside the transaction of every alert change, with `created` and `updated` id
# lists: apps above alerts (the notifications outbox) write what must commit with it.
alerts_changed = Signal()


def notify_alerts(*, created: Iterable[int] = (), updated: Iterable[int] = ()) -> None:
    """Queue one `alert.created` / `alert.updated` push per alert id, sent after commit."""
    kinds = dict.fromkeys(updated, "alert.updated")
    kinds.update(dict.fromkeys(created, "alert.created"))
    if kinds:
        alerts_changed.send(
            sender=notify_alerts,
            created=[pk for pk, kind in kinds.items() if kind == "alert.created"],
            updated=[pk for pk, kind in kinds.items() if kind == "alert.updated"],
        )
        transaction.on_commit(lambda: _send(kinds))


def _send(kinds: dict[int, str]) -> None:
    try:
        messages = []
        for payload in alert_payloads(list(kinds)):
            body = {"type": kinds[payload["id"]], "alert": payload}
            # Encoded once here, not once per connected client in every consumer.
            text = json.dumps(body, separators=(",", ":"))
            messages.append({"type": body["type"], "severity": payload["severity"], "text": text})
        async_to_sync(_publish)(messages)
    except Exception:  # a push must never break the write that already committed
        logger.warning("alert push skipped: channel layer unavailable", exc_info=True)


async def _publish(messages: list[dict]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for start in range(0, len(messages), PUSHES_PER_MESSAGE):
        pushes = messages[start : start + PUSHES_PER_MESSAGE]
        await layer.group_send(ALERTS_GROUP, {"type": "alerts.push", "pushes": pushes})
