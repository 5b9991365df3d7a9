"""The API documents itself (OpenAPI schema, Swagger UI, ReDoc), and the Markdown docs hold
true: links resolve, the settings table, endpoint list and shipped rules match the code."""

import ast
import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver, reverse

from secalerts.detection.correlations import parse_correlation
from secalerts.rules.models import compile_definition
from secalerts.rules.serializers import RuleSerializer
from tests import markdown_docs
from tests.markdown_docs import README, ROOT


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


# ---------------------------------------------------------------- the Markdown docs
# The examples themselves run in tests/e2e/test_doc_examples.py; these check the rest.

_API_PATH = re.compile(r"`(?:(GET|POST|PATCH|PUT|DELETE) )?(/api/[^`\s]*)`")
_SETTINGS_ENV = re.compile(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"")


def test_the_readme_is_a_front_page():
    assert len(README.read_text().splitlines()) < 300
    linked = {target.split("#")[0] for target in markdown_docs.links(README)}
    for doc in (ROOT / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in linked, f"the README does not link {doc.name}"


@pytest.mark.parametrize("path", markdown_docs.DOCS, ids=lambda path: path.name)
def test_relative_links_point_to_a_file_and_heading(path):
    for target in markdown_docs.links(path):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{path.name}: {target} does not exist"
        if anchor:
            assert anchor in markdown_docs.anchors(linked), f"{path.name}: no heading #{anchor}"


def test_readme_configuration_table_lists_every_setting_read_from_the_environment():
    settings_source = (ROOT / "security_backend" / "settings.py").read_text()
    read = set(_SETTINGS_ENV.findall(settings_source))
    rows = markdown_docs.table_rows(README, "variable")
    documented = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row[0])}

    assert read, "no env reads found in settings.py"
    assert sorted(read - documented) == [], "read by settings.py, missing from the README"
    assert sorted(documented - read) == [], "in the README, not read by settings.py"


def _api_routes() -> set[tuple[str, str]]:
    """(METHOD, /api/path/{id}/) for every view of the URLconf under /api/."""
    routes = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            path = "/" + re.sub(r"<(?:\w+:)?\w+>", "{id}", route)
            view = getattr(pattern.callback, "view_class", None)
            if not path.startswith("/api/") or view is None:
                continue  # the JSON 404 for unknown /api/ paths is a function
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view, method):
                    routes.add((method.upper(), path))

    walk(get_resolver().url_patterns, "")
    return routes


def test_api_reference_lists_exactly_the_api_routes():
    rows = markdown_docs.table_rows(ROOT / "docs" / "api.md", "method and path")
    documented = {
        (method, path) for row in rows for method, path in _API_PATH.findall(row[0]) if method
    }

    assert documented, "no endpoint table found in docs/api.md"
    assert sorted(_api_routes() - documented) == [], "routes missing from docs/api.md"
    assert sorted(documented - _api_routes()) == [], "docs/api.md lists routes that do not exist"


def test_readme_api_table_names_existing_paths():
    api_paths = {path for _, path in _api_routes()}
    rows = markdown_docs.table_rows(README, "endpoint")
    named = {path for row in rows for _, path in _API_PATH.findall(row[0])}

    assert named, "no endpoint table found in the README"
    assert sorted(named - api_paths) == []


@pytest.mark.parametrize("path", markdown_docs.DOCS, ids=lambda path: path.name)
def test_make_targets_named_in_the_docs_exist(path):
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"`make ([\w-]+)", path.read_text()))
    for block in markdown_docs.blocks(path):
        if block.language == "sh":
            named |= set(re.findall(r"^make ([\w-]+)", block.text, re.MULTILINE))

    assert sorted(named - targets) == []


@pytest.mark.parametrize("path", markdown_docs.DOCS, ids=lambda path: path.name)
def test_json_and_python_examples_parse_and_rule_examples_compile(path):
    fields = set(RuleSerializer.Meta.fields) - set(RuleSerializer.Meta.read_only_fields)
    for block in markdown_docs.blocks(path):
        if block.language == "python":
            tree = ast.parse(block.text, f"{path.name}:{block.first_line}")
            for node in ast.walk(tree):  # and what it imports is installed
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert importlib.util.find_spec(node.module), node.module
                elif isinstance(node, ast.Import):
                    assert all(importlib.util.find_spec(alias.name) for alias in node.names)
        if block.language != "json":
            continue
        value = json.loads(block.text)  # every JSON example is JSON
        if path.name == "rules.md":
            where = f"rules.md line {block.first_line}"
            assert set(value) <= fields, f"{where}: unknown fields"
            assert {"name", "severity", "condition"} <= set(value), f"{where}: required fields"
            if value.get("correlation") is not None:  # its references need the database
                parse_correlation(value["correlation"])
                continue
            compile_definition(
                rule_id=None,
                condition=value["condition"],
                group_by=value.get("group_by", []),
                threshold=value.get("threshold"),
            )


def test_the_shipped_rules_are_the_ones_rules_md_describes():
    shipped = importlib.import_module("secalerts.rules.migrations.0002_default_rules")
    rows = markdown_docs.table_rows(ROOT / "docs" / "rules.md", "rule")

    assert [row[0] for row in rows] == [rule["name"] for rule in shipped.DEFAULT_RULES]
    for row, rule in zip(rows, shipped.DEFAULT_RULES, strict=True):
        assert row[-1].strip("`") == rule["severity"]
        assert row[2].replace("`", "").split(", ") == rule["group_by"]


def test_the_command_splitter_finds_commands_and_expected_statuses():
    block = markdown_docs.Block(
        Path("x.md"),
        "sh",
        10,
        "# a comment\n"
        "X=$(curl -s a \\\n  -d '{\"a\":\n 1}')   # -> 201\n"
        "for s in 1 2; do\n  curl -s b\ndone | jq .\n"
        'echo "# not a comment" | curl -s c   # -> 404: gone\n',
    )

    found = markdown_docs.commands(block)

    assert [(c.line, c.expected_status) for c in found] == [(11, 201), (14, None), (17, 404)]
    assert found[1].text.endswith("done | jq .")


def test_api_reference_names_the_stream_and_health_paths_that_exist():
    from secalerts.alerts.routing import websocket_urlpatterns

    text = (ROOT / "docs" / "api.md").read_text()
    streams = {f"/{pattern.pattern}" for pattern in websocket_urlpatterns}

    assert set(re.findall(r"wss?://HOST(/ws/[\w/]*)", text)) == streams
    assert "`GET /healthz`" in text
    assert reverse("healthz") == "/healthz"
