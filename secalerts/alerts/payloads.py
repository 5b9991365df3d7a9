"""The alert list shape as a plain dict: one definition for API lists, details and pushes."""

import json
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from secalerts.alerts import bulk_sql
from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule


def _iso(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The alert's own columns in the shape; rule, assignee and group are added by `_shape`.
_COLUMNS = (
    "id",
    "title",
    "description",
    "severity",
    "status",
    "source_ip",
    "event_count",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
)


def _shape(
    values: dict[str, Any], rule: tuple[int, str] | None, assigned_to: str | None, group: Any
) -> dict[str, Any]:
    return {
        "id": values["id"],
        "title": values["title"],
        "description": values["description"],
        "severity": values["severity"],
        "status": values["status"],
        "rule": {"id": rule[0], "name": rule[1]} if rule is not None else None,
        "group": group,
        "source_ip": values["source_ip"],
        "event_count": values["event_count"],
        "first_seen": _iso(values["first_seen"]),
        "last_seen": _iso(values["last_seen"]),
        "assigned_to": assigned_to,
        "created_at": _iso(values["created_at"]),
        "updated_at": _iso(values["updated_at"]),
    }


def alert_payload(alert: Alert) -> dict[str, Any]:
    """Needs `rule` and `assigned_to` loaded (Alert.objects.for_listing())."""
    rule = (alert.rule.pk, alert.rule.name) if alert.rule is not None else None
    assignee = alert.assigned_to.get_username() if alert.assigned_to else None
    return _shape({name: getattr(alert, name) for name in _COLUMNS}, rule, assignee, alert.group)


def alert_payloads(ids: list[int]) -> list[dict[str, Any]]:
    """`alert_payload` of these alerts, in id order, from one plain SQL query.

    Pushes after every ingest read their alerts here: building the ORM's
    select_related query costs many times what running it does.
    """
    if not ids:
        return []
    q = connection.ops.quote_name
    user = get_user_model()._meta
    username = user.get_field(user.model.USERNAME_FIELD).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'a.{q(name)}' for name in _COLUMNS)}, "  # noqa: S608 - names are ours
            f"a.rule_id, r.name, u.{q(username)}, a.{q('group')} "
            f"FROM {q(Alert._meta.db_table)} a "
            f"LEFT JOIN {q(Rule._meta.db_table)} r ON r.id = a.rule_id "
            f"LEFT JOIN {q(user.db_table)} u ON u.{q(user.pk.column)} = a.assigned_to_id "
            f"WHERE a.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY a.id",
            ids,
        )
        rows = cursor.fetchall()
    width = len(_COLUMNS)
    payloads = []
    for row in rows:
        values = dict(zip(_COLUMNS, row[:width], strict=True))
        for name in ("first_seen", "last_seen", "created_at", "updated_at"):
            values[name] = bulk_sql.aware_datetime(values[name])
        rule_id, rule_name, assignee, group = row[width:]
        rule = (rule_id, rule_name) if rule_id is not None else None
        payloads.append(_shape(values, rule, assignee, json.loads(group)))
    return payloads
