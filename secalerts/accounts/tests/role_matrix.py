"""Role-matrix rows for the API-key routes (see tests/test_role_matrix.py)."""

from django.urls import reverse

from secalerts.accounts.api_keys import create_key
from secalerts.accounts.models import ApiKey
from tests.role_matrix import Row


def _key() -> ApiKey:
    return create_key(name="matrix key", scopes=["ingest"], created_by=None)[0]


def _keys_state(_: object = None) -> list[tuple]:
    return list(ApiKey.objects.order_by("pk").values_list("pk", "name", "revoked_at"))


ROWS: list[Row] = [
    Row("api/keys/", "get", "admin_read", lambda _: reverse("accounts:keys")),
    Row(
        "api/keys/",
        "post",
        "admin_create",
        lambda _: reverse("accounts:keys"),
        body=lambda _: {"name": "new key", "scopes": ["ingest"]},
        state=_keys_state,
    ),
    Row(
        "api/keys/<id:pk>/",
        "get",
        "admin_read",
        lambda key: reverse("accounts:key", args=[key.pk]),
        setup=_key,
    ),
    Row(
        "api/keys/<id:pk>/",
        "delete",
        "admin_delete",
        lambda key: reverse("accounts:key", args=[key.pk]),
        state=_keys_state,
        setup=_key,
    ),
]
