"""Hot-path alert reads and writes in plain SQL: on the ingest path the ORM's per-query
and per-row work (a CASE per row in bulk_update) costs more than the database does."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from secalerts.alerts.models import OPEN_STATUSES, Alert, AlertEvent
from secalerts.core import bulk_insert


def update_alert_counters(alerts: Sequence[Alert]) -> None:
    if not alerts:
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET event_count = %s, first_seen = %s, last_seen = %s, "  # noqa: S608
            "severity = %s, severity_rank = %s, updated_at = %s WHERE id = %s",
            [
                (
                    alert.event_count,
                    adapt(alert.first_seen),
                    adapt(alert.last_seen),
                    alert.severity,
                    alert.severity_rank,
                    adapt(alert.updated_at),
                    alert.pk,
                )
                for alert in alerts
            ],
        )


def link_events(
    new: Iterable[tuple[int, Any]], maybe_linked: Iterable[tuple[int, Any]]
) -> Counter[int]:
    """Link events to alerts; returns new links per alert.

    `new`: links of events this transaction stored, which nothing can be linked to
    yet, so they are written as they are. `maybe_linked`: links of earlier events
    (prior threshold hits), which an earlier batch may have linked already: the
    database skips those (ON CONFLICT against alert_event_once), so they are neither
    linked nor counted twice, and no query has to look the existing links up first.
    """
    db_uuid = bulk_insert.uuid_adapter()
    table, columns = AlertEvent._meta.db_table, ("alert_id", "event_id")
    rows = [(alert_id, db_uuid(event_id)) for alert_id, event_id in new]
    bulk_insert.insert_rows(table, columns, rows)
    added = Counter(alert_id for alert_id, _ in rows)
    added.update(
        bulk_insert.insert_new_rows(
            table,
            columns,
            [(alert_id, db_uuid(event_id)) for alert_id, event_id in maybe_linked],
            conflict=columns,
            returning="alert_id",
        )
    )
    return added


def open_alerts_near(keys: Sequence[str], earliest: datetime, latest: datetime) -> list[Alert]:
    """Open alerts of these groups whose event times reach [earliest, latest]: the only
    alerts a batch's matches can join. Loaded with the columns dedup needs."""
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Alert._meta.db_table)
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, group_key, first_seen, last_seen, severity, severity_rank, event_count "  # noqa: S608
            f"FROM {table} WHERE group_key IN ({placeholders}) AND status IN (%s, %s) "
            "AND last_seen >= %s AND first_seen <= %s ORDER BY id",
            [*keys, *OPEN_STATUSES, adapt(earliest), adapt(latest)],
        )
        rows = cursor.fetchall()
    return [
        Alert(
            id=row[0],
            group_key=row[1],
            first_seen=_aware(row[2]),
            last_seen=_aware(row[3]),
            severity=row[4],
            severity_rank=row[5],
            event_count=row[6],
        )
        for row in rows
    ]


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
