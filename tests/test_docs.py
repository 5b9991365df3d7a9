"""OpenAPI schema, Swagger UI and ReDoc are served, and the schema documents bearer auth."""

import json

from django.urls import reverse


def test_schema_documents_the_bearer_scheme(client, db):
    response = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    assert "/api/me/" in schema["paths"]
    assert "/api/token/" in schema["paths"]


def test_swagger_ui_and_redoc_pages_are_served(client, db):
    for name in ("swagger-ui", "redoc"):
        response = client.get(reverse(name))

        assert response.status_code == 200
        assert b"<html" in response.content.lower()


def test_unknown_api_url_is_a_json_404(client, db):
    response = client.get("/api/does-not-exist/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_schema_generates_without_warnings_and_validates():
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            "/dev/null",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_schema_states_the_list_parameters_as_the_api_checks_them(client, db):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    alerts, events = schema["paths"]["/api/alerts/"], schema["paths"]["/api/events/"]

    def parameters(operation: dict) -> dict:
        return {p["name"]: p["schema"] for p in operation.get("parameters", [])}

    assert "ordering" in parameters(alerts["get"])
    assert parameters(alerts["patch"]) == {}  # the bulk update takes no query parameters
    assert parameters(alerts["get"])["rule"]["type"] == "integer"
    for operation in (alerts["get"], events["get"]):
        assert parameters(operation)["page_size"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
        }
        assert "404" not in operation["responses"]  # a bad cursor is a 400
