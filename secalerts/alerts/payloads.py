"""The alert list shape as a plain dict: one definition for API lists, details and pushes."""

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models

from secalerts.alerts import bulk_sql
from secalerts.alerts.models import Alert
from secalerts.core.columns import column_of
from secalerts.detection.schema import iso_time
from secalerts.rules.models import Rule

# The alert shape, in order (AlertSerializer documents it; test_schema_contract).
ALERT_FIELDS = (
    "id",
    "title",
    "description",
    "severity",
    "status",
    "rule",
    "group",
    "source_ip",
    "event_count",
    "first_seen",
    "last_seen",
    "assigned_to",
    "created_at",
    "updated_at",
)
# Shown by name, from a join: the rule as {id, name}, the assignee as a username.
_REFERENCES = ("rule", "assigned_to")
# The alert's own columns in the shape.
_COLUMNS = tuple(name for name in ALERT_FIELDS if name not in _REFERENCES)
_TIMES = tuple(
    name for name in _COLUMNS if isinstance(Alert._meta.get_field(name), models.DateTimeField)
)
_JSON = tuple(
    name for name in _COLUMNS if isinstance(Alert._meta.get_field(name), models.JSONField)
)


def _shape(
    values: dict[str, Any], rule: tuple[int, str] | None, assigned_to: str | None
) -> dict[str, Any]:
    """The payload of an alert's own column values (aware datetimes, decoded JSON)."""
    for name in _TIMES:
        values[name] = iso_time(values[name])
    values["rule"] = {"id": rule[0], "name": rule[1]} if rule is not None else None
    values["assigned_to"] = assigned_to
    return {name: values[name] for name in ALERT_FIELDS}


def alert_payload(alert: Alert) -> dict[str, Any]:
    """Needs `rule` and `assigned_to` loaded (Alert.objects.for_listing())."""
    rule = (alert.rule.pk, alert.rule.name) if alert.rule is not None else None
    assignee = alert.assigned_to.get_username() if alert.assigned_to else None
    return _shape({name: getattr(alert, name) for name in _COLUMNS}, rule, assignee)


def alert_payloads(ids: list[int]) -> list[dict[str, Any]]:
    """`alert_payload` of these alerts, in id order, from one plain SQL query.

    Pushes after every ingest read their alerts here: building the ORM's
    select_related query costs many times what running it does.
    """
    if not ids:
        return []
    q = connection.ops.quote_name
    user_model = get_user_model()
    user = user_model._meta
    username = column_of(user.get_field(user_model.USERNAME_FIELD))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'a.{q(name)}' for name in _COLUMNS)}, "  # noqa: S608 - names are ours
            f"a.rule_id, r.name, u.{q(username)} "
            f"FROM {q(Alert._meta.db_table)} a "
            f"LEFT JOIN {q(Rule._meta.db_table)} r ON r.id = a.rule_id "
            f"LEFT JOIN {q(user.db_table)} u ON u.{q(column_of(user.pk))} = a.assigned_to_id "
            f"WHERE a.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY a.id",
            ids,
        )
        rows = cursor.fetchall()
    width = len(_COLUMNS)
    payloads = []
    for row in rows:
        values = dict(zip(_COLUMNS, row[:width], strict=True))
        for name in _TIMES:
            values[name] = bulk_sql.aware_datetime(values[name])
        for name in _JSON:
            values[name] = json.loads(values[name])
        rule_id, rule_name, assignee = row[width:]
        rule = (rule_id, rule_name) if rule_id is not None else None
        payloads.append(_shape(values, rule, assignee))
    return payloads
