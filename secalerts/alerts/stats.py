"""Alert statistics for the overview: totals, a series by severity per hour or day, and the
top rules and source IPs of a time range. A fixed number of queries whatever the range."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.db.models import Count, QuerySet
from django.db.models.functions import Trunc

from secalerts.alerts.models import Alert, AlertStatus
from secalerts.events.models import Severity

Bucket = Literal["hour", "day"]
BUCKET_SIZE: dict[Bucket, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# The range asked for when `since` is left out, and the longest one allowed (a chart of
# more than a few hundred bars says nothing more, and the answer must stay small).
DEFAULT_SPAN: dict[Bucket, timedelta] = {"hour": timedelta(hours=24), "day": timedelta(days=30)}
MAX_SPAN: dict[Bucket, timedelta] = {"hour": timedelta(days=31), "day": timedelta(days=366)}
TOP_N = 10


@dataclass(frozen=True, slots=True)
class StatsWindow:
    bucket: Bucket
    since: datetime  # inclusive, at a bucket boundary
    until: datetime  # exclusive


def stats_window(*, bucket: Bucket, since: datetime | None, until: datetime | None,
                 now: datetime) -> StatsWindow:  # fmt: skip
    """The range to count: `since` is moved back to its bucket's start. Raises ValueError
    when the range is empty or longer than MAX_SPAN."""
    until = until or now
    try:
        since = truncate(since or until - DEFAULT_SPAN[bucket], bucket)
    except OverflowError as error:
        raise ValueError("Date out of range.") from error
    if since >= until:
        raise ValueError("since must come before until.")
    if until - since > MAX_SPAN[bucket]:
        raise ValueError(f"At most {MAX_SPAN[bucket].days} days per request for bucket={bucket}.")
    return StatsWindow(bucket=bucket, since=since, until=until)


def truncate(moment: datetime, bucket: Bucket) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def totals() -> dict[str, Any]:
    """Counts of every alert by status and by severity (one query)."""
    by_status = dict.fromkeys(AlertStatus.values, 0)
    by_severity = dict.fromkeys(Severity.values, 0)
    rows = Alert.objects.values("status", "severity").annotate(n=Count("id")).order_by()
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_severity[row["severity"]] += row["n"]
    return {"total": sum(by_status.values()), "by_status": by_status, "by_severity": by_severity}


def series(window: StatsWindow) -> list[dict[str, Any]]:
    """Alerts created per bucket by severity, every bucket of the window present (one query)."""
    rows = (
        _in_window(window)
        .annotate(start=Trunc("created_at", window.bucket, tzinfo=UTC))
        .values("start", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[datetime, dict[str, int]] = {}
    for row in rows:
        start = row["start"].astimezone(UTC)
        counts.setdefault(start, dict.fromkeys(Severity.values, 0))[row["severity"]] += row["n"]
    step = BUCKET_SIZE[window.bucket]
    points = []
    start = window.since
    while start < window.until:
        empty = dict.fromkeys(Severity.values, 0)
        points.append({"start": start, "counts": counts.get(start, empty)})
        start += step
    return points


def top_rules(window: StatsWindow) -> list[dict[str, Any]]:
    rows = (
        _in_window(window)
        .filter(rule__isnull=False)
        .values("rule_id", "rule__name")
        .annotate(n=Count("id"))
        .order_by("-n", "rule_id")[:TOP_N]
    )
    return [{"id": row["rule_id"], "name": row["rule__name"], "count": row["n"]} for row in rows]


def top_source_ips(window: StatsWindow) -> list[dict[str, Any]]:
    rows = (
        _in_window(window)
        .filter(source_ip__isnull=False)
        .values("source_ip")
        .annotate(n=Count("id"))
        .order_by("-n", "source_ip")[:TOP_N]
    )
    return [{"source_ip": row["source_ip"], "count": row["n"]} for row in rows]


def alert_stats(window: StatsWindow) -> dict[str, Any]:
    """Everything the overview shows, in four queries."""
    return totals() | {
        "bucket": window.bucket,
        "since": window.since,
        "until": window.until,
        "series": series(window),
        "top_rules": top_rules(window),
        "top_source_ips": top_source_ips(window),
    }


def _in_window(window: StatsWindow) -> QuerySet[Alert]:
    # created_at, the alert_newest index's column: a range scan, never the whole table.
    return Alert.objects.filter(created_at__gte=window.since, created_at__lt=window.until)
