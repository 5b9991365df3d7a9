"""The alert list shape as a plain dict: one definition for API lists, details and pushes."""

from datetime import datetime
from typing import Any

from secalerts.alerts.models import Alert


def _iso(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def alert_payload(alert: Alert) -> dict[str, Any]:
    """Needs `rule` and `assigned_to` loaded (Alert.objects.for_listing())."""
    rule = alert.rule
    return {
        "id": alert.pk,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity,
        "status": alert.status,
        "rule": {"id": rule.pk, "name": rule.name} if rule is not None else None,
        "group": alert.group,
        "source_ip": alert.source_ip,
        "event_count": alert.event_count,
        "first_seen": _iso(alert.first_seen),
        "last_seen": _iso(alert.last_seen),
        "assigned_to": alert.assigned_to.get_username() if alert.assigned_to else None,
        "created_at": _iso(alert.created_at),
        "updated_at": _iso(alert.updated_at),
    }
