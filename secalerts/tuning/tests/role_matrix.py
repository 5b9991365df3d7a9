"""Role-matrix rows for the tuning routes (see tests/test_role_matrix.py)."""

from datetime import timedelta

from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from secalerts.audit.models import AuditEntry
from secalerts.rules.models import Rule
from secalerts.tuning.models import Suppression
from tests.role_matrix import Row

CONDITION = {"field": "event_type", "op": "eq", "value": "matrix.test"}
EVENT = {"event_type": "matrix.test", "source": "matrix"}


def _rule() -> Rule:
    return Rule.objects.create(name="matrix tuning rule", severity="low", condition=CONDITION)


def _suppression() -> Suppression:
    expires = timezone.now() + timedelta(days=1)
    return Suppression.objects.create(condition=CONDITION, reason="matrix", expires_at=expires)


def _state(_: object = None) -> list[list[dict]]:
    return [
        [model_to_dict(row) for row in model.objects.order_by("pk")]
        for model in (Suppression, AuditEntry)
    ]


def _expiry() -> str:
    return (timezone.now() + timedelta(days=1)).isoformat()


ROWS: list[Row] = [
    Row(
        "api/rules/test/",
        "post",
        "read",
        lambda _: reverse("tuning:rule-test"),
        body=lambda _: {"rule": {"condition": CONDITION}, "events": [EVENT]},
    ),
    Row(
        "api/rules/<id:pk>/backtest/",
        "post",
        "admin_change",
        lambda rule: reverse("tuning:backtest", args=[rule.pk]),
        body=lambda _: {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
        setup=_rule,
    ),
    Row("api/suppressions/", "get", "read", lambda _: reverse("tuning:suppressions")),
    Row(
        "api/suppressions/",
        "post",
        "admin_create",
        lambda _: reverse("tuning:suppressions"),
        body=lambda _: {"condition": CONDITION, "reason": "matrix", "expires_at": _expiry()},
        state=_state,
    ),
    Row(
        "api/suppressions/<id:pk>/",
        "get",
        "read",
        lambda row: reverse("tuning:suppression", args=[row.pk]),
        setup=_suppression,
    ),
    Row(
        "api/suppressions/<id:pk>/",
        "patch",
        "admin_change",
        lambda row: reverse("tuning:suppression", args=[row.pk]),
        body=lambda _: {"reason": "changed"},
        state=_state,
        setup=_suppression,
    ),
    Row(
        "api/suppressions/<id:pk>/",
        "delete",
        "admin_delete",
        lambda row: reverse("tuning:suppression", args=[row.pk]),
        state=_state,
        setup=_suppression,
    ),
    Row("api/audit/", "get", "admin_read", lambda _: reverse("tuning:audit")),
]
