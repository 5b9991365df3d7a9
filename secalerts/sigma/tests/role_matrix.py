"""Role-matrix rows for the Sigma import route (see tests/test_role_matrix.py)."""

from django.forms.models import model_to_dict
from django.urls import reverse

from secalerts.rules.models import Rule
from tests.role_matrix import Row

# A Sigma rule as JSON (JSON is YAML): the matrix sends JSON bodies.
SIGMA_RULE = {
    "title": "Matrix whoami",
    "id": "0d5a5a99-da44-436d-b7a0-2afc20a5f413",
    "logsource": {"product": "windows", "category": "process_creation"},
    "detection": {"selection": {"Image|endswith": "\\whoami.exe"}, "condition": "selection"},
}


def _rules_state(_: object = None) -> list[dict]:
    return [model_to_dict(rule) for rule in Rule.objects.order_by("pk")]


ROWS: list[Row] = [
    Row(
        "api/rules/sigma/",
        "post",
        "admin_create",
        lambda _: reverse("sigma:import"),
        body=lambda _: SIGMA_RULE,
        state=_rules_state,
    ),
]
