"""Sending deliveries: one attempt each, recorded, and failures scheduled again with
exponential backoff until NOTIFY_RETRY_FOR_SECONDS after the change, then failed."""

import http.client
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secalerts.alerts.payloads import alert_payloads
from secalerts.core import metrics
from secalerts.notifications import messages, transport
from secalerts.notifications.addresses import RefusedAddress
from secalerts.notifications.models import (
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)
from secalerts.notifications.outbox import enqueue

logger = logging.getLogger(__name__)
# Sends of one task run side by side: a slow receiver holds one thread, not the batch.
SEND_THREADS = 16
# The longest wait between two attempts, however many failed before.
MAX_RETRY_DELAY_SECONDS = 3600
ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    response_code: int | None = None
    error: str = ""
    final: bool = False  # not worth retrying (a refused address)


def attempt(delivery: Delivery, alert: dict[str, Any] | None) -> Outcome:
    """One send of this delivery's message; never raises."""
    channel = delivery.channel
    delivery_id = str(delivery.pk)
    try:
        if channel.kind == ChannelKind.EMAIL:
            subject, text = messages.email_subject_and_text(delivery.type, alert, delivery_id)
            message = EmailMessage(subject, text, to=list(channel.to))
            message.extra_headers["X-Secalerts-Delivery-Id"] = delivery_id
            message.send()
            return Outcome(ok=True)
        if channel.kind == ChannelKind.SLACK:
            body = messages.slack_body(delivery.type, alert, delivery_id)
            headers = {"Content-Type": "application/json"}
        else:
            body = messages.webhook_body(delivery.type, alert, delivery_id)
            headers = {"Content-Type": "application/json", "X-Delivery-Id": delivery_id}
            if channel.secret:
                headers[messages.SIGNATURE_HEADER] = messages.signature(channel.secret, body)
        answer = transport.post(channel.url, body, headers)
    except RefusedAddress as refused:
        return Outcome(ok=False, error=f"refused: {refused}", final=True)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:ERROR_CHARS])
    except Exception as error:  # a bad channel must not stall the worker
        logger.exception("delivery %s failed unexpectedly", delivery_id)
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:ERROR_CHARS])
    if 200 <= answer.status < 300:
        return Outcome(ok=True, response_code=answer.status)
    return Outcome(ok=False, response_code=answer.status, error=answer.body[:ERROR_CHARS])


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: first, 2 x first, 4 x first ..., capped at an hour."""
    first = settings.NOTIFY_RETRY_FIRST_SECONDS
    return timedelta(seconds=min(first * 2 ** (attempts - 1), MAX_RETRY_DELAY_SECONDS))


def send_deliveries(delivery_ids: list[str]) -> dict[str, int]:
    """Send the pending ones among these deliveries whose time has come."""
    now = timezone.now()
    # A re-run task (the worker died after recording) finds its deliveries sent, or
    # scheduled later by the retry it enqueued: neither is sent again here.
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1))
    deliveries = list(
        Delivery.objects.filter(due, pk__in=delivery_ids, status=DeliveryStatus.PENDING)
        .select_related("channel")
        .order_by("created_at", "pk")
    )
    if not deliveries:
        return {"sent": 0, "failed": 0, "retrying": 0}
    alert_ids = sorted({d.alert_id for d in deliveries if d.alert_id is not None})
    alerts = {payload["id"]: payload for payload in alert_payloads(alert_ids)}
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(deliveries))) as pool:
        outcomes = list(pool.map(lambda d: attempt(d, alerts.get(d.alert_id or 0)), deliveries))
    return record_outcomes(deliveries, outcomes)


@transaction.atomic
def record_outcomes(deliveries: list[Delivery], outcomes: list[Outcome]) -> dict[str, int]:
    """Each attempt logged, each delivery's state moved, retries enqueued: one transaction."""
    now = timezone.now()
    retries: dict[datetime, list[str]] = defaultdict(list)
    log = []
    counts = {"sent": 0, "failed": 0, "retrying": 0}
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        delivery.attempts += 1
        delivery.response_code = outcome.response_code
        delivery.error = outcome.error
        delivery.next_attempt_at = None
        if outcome.ok:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            counts["sent"] += 1
        else:
            retry_at = now + retry_delay(delivery.attempts)
            give_up_at = delivery.created_at + timedelta(seconds=settings.NOTIFY_RETRY_FOR_SECONDS)
            if outcome.final or delivery.alert_id is None or retry_at > give_up_at:
                delivery.status = DeliveryStatus.FAILED
                counts["failed"] += 1
            else:
                delivery.next_attempt_at = retry_at
                retries[retry_at].append(str(delivery.pk))
                counts["retrying"] += 1
        log.append(
            DeliveryAttempt(
                delivery=delivery,
                number=delivery.attempts,
                attempted_at=now,
                ok=outcome.ok,
                response_code=outcome.response_code,
                error=outcome.error,
                next_retry_at=delivery.next_attempt_at,
            )
        )
    Delivery.objects.bulk_update(
        deliveries,
        ["attempts", "response_code", "error", "next_attempt_at", "status", "sent_at"],
        batch_size=200,
    )
    DeliveryAttempt.objects.bulk_create(log, batch_size=500)
    for retry_at, ids in retries.items():
        enqueue(ids, run_after=retry_at)
    transaction.on_commit(lambda: _count(counts))
    return counts


def _count(results: dict[str, int]) -> None:
    for result, count in results.items():
        metrics.count_deliveries(result, count)
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).count()
    metrics.set_notification_queue_depth(pending)
