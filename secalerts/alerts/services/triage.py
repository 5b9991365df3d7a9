"""Analyst triage: status and assignee changes, single and bulk, each with history."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from secalerts.accounts.roles import Role, has_role
from secalerts.alerts.models import Alert, AlertHistory
from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.transitions import check_transition
from secalerts.core.errors import InvalidInput, NotFoundError

UNSET: Any = object()


def change_alert(
    *,
    alert_id: int,
    actor: User,
    status: str = UNSET,
    assigned_to: str | None = UNSET,
    note: str = "",
) -> Alert:
    """Change status and/or assignee; a note alone is recorded as a history entry.

    The row is locked, so two admins at once are applied one after the other and each
    change is checked against the status the other left.
    """
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFoundError("Alert not found.")
        now = timezone.now()
        history = []
        if status is not UNSET and status != alert.status:
            check_transition(alert.status, status)
            history.append(_entry(alert, actor, "status", alert.status, status, note, now))
            alert.status = status
        if assigned_to is not UNSET:
            assignee = _assignee(assigned_to)
            old = alert.assigned_to.get_username() if alert.assigned_to is not None else None
            if old != assigned_to:
                history.append(_entry(alert, actor, "assigned_to", old, assigned_to, note, now))
                alert.assigned_to = assignee
        if not history and note:
            history.append(_entry(alert, actor, "note", None, None, note, now))
        if history:
            alert.updated_at = now
            alert.save(update_fields=["status", "assigned_to", "updated_at"])
            AlertHistory.objects.bulk_create(history)
            notify_alerts(updated=[alert.pk])
    return Alert.objects.for_listing().get(pk=alert.pk)


def bulk_change_alerts(*, ids: Sequence[int], actor: User, status: str, note: str = "") -> int:
    """All or nothing: an unknown id or a forbidden transition changes no alert."""
    wanted = sorted(set(ids))
    with transaction.atomic():
        # Locked in id order, so concurrent bulk updates cannot deadlock each other.
        alerts = list(Alert.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
        missing = sorted(set(wanted) - {alert.pk for alert in alerts})
        if missing:
            raise NotFoundError(
                f"Unknown alert ids: {missing[:20]}.", detail={"ids": [f"unknown: {missing[:20]}"]}
            )
        changing = [alert for alert in alerts if alert.status != status]
        for alert in changing:
            check_transition(alert.status, status)
        now = timezone.now()
        history = [_entry(a, actor, "status", a.status, status, note, now) for a in changing]
        Alert.objects.filter(pk__in=[a.pk for a in changing]).update(status=status, updated_at=now)
        AlertHistory.objects.bulk_create(history)
        notify_alerts(updated=[a.pk for a in changing])
    return len(changing)


def _assignee(username: str | None) -> User | None:
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not has_role(user, Role.ADMIN, Role.ANALYST):
        raise InvalidInput(
            f"Cannot assign to {username!r}: not an active Admin or Analyst.",
            detail={"assigned_to": ["Must name an active Admin or Analyst, or be null."]},
        )
    return user


def _entry(
    alert: Alert,
    actor: User,
    field: str,
    old: object,
    new: object,
    note: str,
    now: datetime,
) -> AlertHistory:
    return AlertHistory(
        alert=alert,
        actor=actor,
        field=field,
        old_value=old,
        new_value=new,
        note=note,
        created_at=now,
    )
