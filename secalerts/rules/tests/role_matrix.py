"""Role-matrix rows for the rules routes (see tests/test_role_matrix.py)."""

from django.forms.models import model_to_dict
from django.urls import reverse

from secalerts.rules.models import Rule
from tests.role_matrix import Row

CONDITION = {"field": "event_type", "op": "eq", "value": "matrix.test"}


def _rule() -> Rule:
    return Rule.objects.create(name="matrix rule", severity="low", condition=CONDITION)


def _rules_state(_: object = None) -> list[dict]:
    return [model_to_dict(rule) for rule in Rule.objects.order_by("pk")]


ROWS: list[Row] = [
    Row("api/rules/", "get", "read", lambda _: reverse("rules:list")),
    Row(
        "api/rules/",
        "post",
        "admin_create",
        lambda _: reverse("rules:list"),
        body=lambda _: {"name": "new", "severity": "high", "condition": CONDITION},
        state=_rules_state,
    ),
    Row(
        "api/rules/<id:pk>/",
        "get",
        "read",
        lambda rule: reverse("rules:detail", args=[rule.pk]),
        setup=_rule,
    ),
    Row(
        "api/rules/<id:pk>/",
        "patch",
        "admin_change",
        lambda rule: reverse("rules:detail", args=[rule.pk]),
        body=lambda _: {"enabled": False, "severity": "critical"},
        state=_rules_state,
        setup=_rule,
    ),
    Row(
        "api/rules/<id:pk>/",
        "delete",
        "admin_delete",
        lambda rule: reverse("rules:detail", args=[rule.pk]),
        state=_rules_state,
        setup=_rule,
    ),
]
