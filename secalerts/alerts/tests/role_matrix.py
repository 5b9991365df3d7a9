"""Role-matrix rows for the alerts routes (see tests/test_role_matrix.py)."""

from django.urls import reverse

from secalerts.alerts.models import Alert, AlertHistory
from tests.role_matrix import Row


def _alert() -> Alert:
    from secalerts.alerts.tests.factories import AlertFactory

    return AlertFactory()


def _state(_: object = None) -> list:
    alerts = list(Alert.objects.order_by("pk").values("pk", "status", "assigned_to_id"))
    return [alerts, AlertHistory.objects.count()]


ROWS: list[Row] = [
    Row("api/alerts/", "get", "read", lambda _: reverse("alerts:list"), setup=_alert),
    Row(
        "api/alerts/",
        "patch",
        "admin_change",
        lambda _: reverse("alerts:list"),
        body=lambda alert: {"ids": [alert.pk], "status": "acknowledged"},
        state=_state,
        setup=_alert,
    ),
    Row("api/alerts/stats/", "get", "read", lambda _: reverse("alerts:stats"), setup=_alert),
    Row(
        "api/alerts/<id:pk>/",
        "get",
        "read",
        lambda alert: reverse("alerts:detail", args=[alert.pk]),
        setup=_alert,
    ),
    Row(
        "api/alerts/<id:pk>/",
        "patch",
        "admin_change",
        lambda alert: reverse("alerts:detail", args=[alert.pk]),
        body=lambda _: {"status": "resolved", "note": "done"},
        state=_state,
        setup=_alert,
    ),
    Row(
        "api/alerts/<id:pk>/history/",
        "get",
        "read",
        lambda alert: reverse("alerts:history", args=[alert.pk]),
        setup=_alert,
    ),
]
