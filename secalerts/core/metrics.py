"""The Prometheus metrics: every metric object, the helpers the hot paths call, and the scrape.

One module for every metric, in core so that any app may count. Helpers take a batch's
totals, so a hot path pays one increment a batch, not one an event. With
METRICS_ENABLED off they return at once (bench/metrics.py measures the difference).

Across processes (`manage.py serve --workers N`): prometheus-client's multiprocess
mode. `serve` makes a fresh directory per run and passes it to its children as
PROMETHEUS_MULTIPROC_DIR; each process writes its values to files there (chosen when
prometheus-client is imported), and a scrape of any worker sums the files of all of
them. Counters of a process that exited stay in the directory; `serve` drops the live
gauges of each child that exits (`forget_process`). One Daphne without `serve` (no
PROMETHEUS_MULTIPROC_DIR) keeps its values in memory and reports them alone.
"""

import contextlib
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from secalerts.core.errors import DomainError

__all__ = ["CONTENT_TYPE_LATEST"]

# Ingest paths (the `path` label): POST /api/events/, /api/intake/*, the syslog listener.
HTTP, INTAKE, SYSLOG = "http", "intake", "syslog"
# Results (the `result` label): stored; already stored (a retry); refused (4xx: invalid,
# an id conflict, too large, or a syslog line that gave no valid event).
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"

EVENTS_INGESTED = Counter(
    "secalerts_events_ingested",
    "Events taken in, by ingest path and result.",
    ["path", "result"],
)
# Made once: `labels()` takes a lock and builds a key, which costs the hot path as much
# as the increment; made up front, every series is exported from the start (at 0).
_INGESTED = {
    (path, result): EVENTS_INGESTED.labels(path, result)
    for path in (HTTP, INTAKE, SYSLOG)
    for result in (ACCEPTED, DUPLICATE, REJECTED)
}
INGEST_BATCH_SECONDS = Histogram(
    "secalerts_ingest_batch_seconds",
    "Time to store one batch and run it through the rules (one ingest transaction).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ALERTS_RAISED = Counter(
    "secalerts_alerts_raised",
    "New alerts committed, by severity.",
    ["severity"],
)
DETECTION_LAG_SECONDS = Histogram(
    "secalerts_detection_lag_seconds",
    "From the time of the event that raised an alert to the commit of the alert.",
    # Replayed or late events land in the top buckets; live ones in the first few.
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400),
)
RULES_LOADED = Gauge(
    "secalerts_rules_loaded",
    "Enabled rules compiled for detection (as of the last rule-set refresh).",
    multiprocess_mode="livemostrecent",
)
STREAM_CLIENTS = Gauge(
    "secalerts_stream_clients",
    "WebSocket alert-stream clients connected now.",
    multiprocess_mode="livesum",
)
STREAM_PUSHES = Counter(
    "secalerts_stream_pushes",
    "Alert pushes written to WebSocket clients (one per client it reached).",
)
STREAM_CLOSED_TOO_SLOW = Counter(
    "secalerts_stream_closed_too_slow",
    "WebSocket clients closed with 4408 because they stopped reading.",
)
# Notifications (secalerts/notifications): a delivery attempt's outcome, and the outbox.
# The delivery worker (notifications.sending) counts each task's attempts by result and
# then the deliveries still pending; under `serve` it is one of serve's children, so it
# shares PROMETHEUS_MULTIPROC_DIR.
NOTIFICATION_DELIVERIES = Counter(
    "secalerts_notification_deliveries",
    "Notification delivery attempts, by result (sent, retrying, failed: given up).",
    ["result"],
)
NOTIFICATION_QUEUE_DEPTH = Gauge(
    "secalerts_notification_queue_depth",
    "Notifications waiting to be delivered (as last seen by the delivery worker).",
    multiprocess_mode="livemostrecent",
)


def enabled() -> bool:
    return settings.METRICS_ENABLED


def count_events(path: str, *, accepted: int = 0, duplicate: int = 0, rejected: int = 0) -> None:
    """One request's or one batch's events, each counted once under its result."""
    if not settings.METRICS_ENABLED:
        return
    if accepted:
        _INGESTED[path, ACCEPTED].inc(accepted)
    if duplicate:
        _INGESTED[path, DUPLICATE].inc(duplicate)
    if rejected:
        _INGESTED[path, REJECTED].inc(rejected)


def refused_events(error: BaseException) -> int:
    """The events a refused request held: as many as the error knows of (a batch that
    failed validation, an id conflict), else one (a body that could not be read)."""
    return getattr(error, "refused_events", 1)


@contextlib.contextmanager
def counting_refusals(path: str) -> Iterator[None]:
    """Counts the events of a request refused within (a DomainError) as rejected."""
    try:
        yield
    except DomainError as error:
        count_events(path, rejected=refused_events(error))
        raise


def observe_batch(started: float) -> None:
    """One ingest batch, begun at `started` (time.perf_counter())."""
    if settings.METRICS_ENABLED:
        INGEST_BATCH_SECONDS.observe(time.perf_counter() - started)


def alerts_committed(raised: Iterable[tuple[str, datetime]], *, committed_at: datetime) -> None:
    """New alerts just committed: (severity, time of the event that raised it) each."""
    if not settings.METRICS_ENABLED:
        return
    severities: Tally[str] = Tally()
    for severity, event_time in raised:
        severities[severity] += 1
        # An event stamped a little in the future (clock skew) is no lag at all.
        DETECTION_LAG_SECONDS.observe(max((committed_at - event_time).total_seconds(), 0.0))
    for severity, count in severities.items():
        ALERTS_RAISED.labels(severity).inc(count)


def set_rules_loaded(count: int) -> None:
    if settings.METRICS_ENABLED:
        RULES_LOADED.set(count)


def stream_client_joined() -> None:
    if settings.METRICS_ENABLED:
        STREAM_CLIENTS.inc()


def stream_client_left() -> None:
    if settings.METRICS_ENABLED:
        STREAM_CLIENTS.dec()


def count_pushes(count: int) -> None:
    if count and settings.METRICS_ENABLED:
        STREAM_PUSHES.inc(count)


def count_too_slow_close() -> None:
    if settings.METRICS_ENABLED:
        STREAM_CLOSED_TOO_SLOW.inc()


def count_deliveries(result: str, count: int = 1) -> None:
    """Notification delivery attempts ended with this result (sent, retrying, failed)."""
    if settings.METRICS_ENABLED and count:
        NOTIFICATION_DELIVERIES.labels(result).inc(count)


def set_notification_queue_depth(depth: int) -> None:
    if settings.METRICS_ENABLED:
        NOTIFICATION_QUEUE_DEPTH.set(depth)


def exposition() -> bytes:
    """Every metric in the text format: summed over `serve`'s processes when it runs them."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    return generate_latest(registry)


def forget_process(pid: int, directory: str) -> None:
    """A process of `serve` exited: drop its live gauges (its counters stay counted)."""
    _multiprocess.mark_process_dead(pid, directory)
