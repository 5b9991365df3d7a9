"""Hot-path alert writes as plain executemany: the ORM's bulk_update builds a CASE per row."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from secalerts.alerts.models import Alert, AlertEvent


def _uuid(value: Any) -> Any:
    return value if connection.features.has_native_uuid_field else value.hex


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


def link_events(pairs: Iterable[tuple[int, Any]]) -> None:
    rows = [(alert_id, _uuid(event_id)) for alert_id, event_id in pairs]
    if not rows:
        return
    table = connection.ops.quote_name(AlertEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (alert_id, event_id) VALUES (%s, %s)",  # noqa: S608
            rows,
        )
