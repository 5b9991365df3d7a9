"""Pushes of new and changed alerts to the channel layer, sent after the transaction commits.

Each change is first logged, with its `seq`, in the changing transaction (alerts.changes);
a push carries that seq. A push that cannot be sent (Redis down) is logged and dropped:
ingestion and triage never fail because of it, and the stream fills it in from the log
(broadcast.py) or clients catch up through the alert list.

A push, live or replayed from the log, shows the alert as it is when the push is built
(after commit, or at replay), in its list shape: the log keeps which alert changed and
how (created / updated), not the alert's copy, so the changing transaction writes a
narrow row and reads nothing more under the write lock.
"""

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

from secalerts.alerts import changes
from secalerts.alerts.changes import Change
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
    """Log one `alert.created` / `alert.updated` change per alert id and queue its push
    for after commit. Called inside the transaction that changes the alerts, at its end:
    the change log's counter stays locked from here to the commit."""
    kinds = dict.fromkeys(updated, "alert.updated")
    kinds.update(dict.fromkeys(created, "alert.created"))
    if kinds:
        alerts_changed.send(
            sender=notify_alerts,
            created=[pk for pk, kind in kinds.items() if kind == "alert.created"],
            updated=[pk for pk, kind in kinds.items() if kind == "alert.updated"],
        )
        logged = changes.record(kinds)  # last: its counter stays locked until commit
        transaction.on_commit(lambda: _send(logged))


def _send(logged: list[Change]) -> None:
    try:
        async_to_sync(_publish)(pushes_of(logged))
    except Exception:  # a push must never break the write that already committed
        logger.warning("alert push skipped: channel layer unavailable", exc_info=True)


def pushes_of(logged: Sequence[Change]) -> list[dict[str, Any]]:
    """The pushes of these changes, in their order, with the alerts as they are now. A
    change of an alert that no longer exists has none."""
    payloads = {p["id"]: p for p in alert_payloads(sorted({c.alert_id for c in logged}))}
    pushes = []
    for change in logged:
        payload = payloads.get(change.alert_id)
        if payload is None:
            continue
        body = {"type": change.kind, "alert": payload, "seq": change.seq}
        # Encoded once here, not once per connected client in every consumer.
        text = json.dumps(body, separators=(",", ":"))
        pushes.append({"severity": payload["severity"], "seq": change.seq, "text": text})
    return pushes


class Replayed(NamedTuple):
    pushes: list[dict[str, Any]]
    last_seq: int  # the last seq read: `after` when the log holds nothing newer
    complete: bool  # False: the change after `after` is no longer in the log


def logged_pushes(*, after: int, before: int | None = None, limit: int) -> Replayed:
    """The pushes of the logged changes after seq `after` (and before `before`), at
    most `limit`, oldest first."""
    wanted = limit if before is None else min(limit, before - after - 1)
    logged = changes.changes_after(after, limit=wanted) if wanted > 0 else []
    # The log is gap-free and pruned from its oldest end: checking the first is enough.
    complete = logged[0].seq == after + 1 if logged else before is None or wanted <= 0
    return Replayed(pushes_of(logged), logged[-1].seq if logged else after, complete)


async def _publish(messages: list[dict]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for start in range(0, len(messages), PUSHES_PER_MESSAGE):
        pushes = messages[start : start + PUSHES_PER_MESSAGE]
        await layer.group_send(ALERTS_GROUP, {"type": "alerts.push", "pushes": pushes})
