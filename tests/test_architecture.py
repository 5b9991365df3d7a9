"""The layering holds: the pure packages load no Django and none of our apps, and each
app imports only the apps below it."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


@pytest.mark.parametrize("package", ["secalerts.detection", "secalerts.logparsers"])
def test_pure_package_imports_no_django(package):
    code = (
        f"import sys, {package};"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_logparsers_import_nothing_of_ours_but_themselves():
    code = (
        "import sys, secalerts.logparsers;"
        "ours = sorted(m for m in sys.modules if m.startswith('secalerts.')"
        " and not m.startswith('secalerts.logparsers'));"
        "print(ours); sys.exit(1 if ours else 0)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# The apps from the bottom up: each imports only those below it (and the pure packages),
# so none can be understood only together with another, and an event's path reads
# upwards: stored (events), matched against rules (rules, detection), raised as alerts
# (alerts), the whole path wired by ingest, fed by intake and syslog; the periodic jobs
# (jobs) keep the stored state in bounds; the console (console) is a page over the API.
LAYERS = (
    "core",
    "audit",
    "accounts",
    "events",
    "rules",
    "sigma",
    "alerts",
    "tuning",
    "notifications",
    "ingest",
    "intake",
    "syslog",
    "jobs",
    "console",
)
PURE = ("detection", "logparsers")


def _imports_of_ours(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.split(".")[1] for name in names if name.startswith("secalerts.")}


def _app_modules(app: str) -> list[Path]:
    root = Path(settings.BASE_DIR) / "secalerts" / app
    return [p for p in root.rglob("*.py") if "tests" not in p.relative_to(root).parts]


@pytest.mark.parametrize("app", LAYERS)
def test_apps_import_only_the_layers_below(app):
    allowed = {app, *LAYERS[: LAYERS.index(app)], *PURE}

    wrong = {
        f"{path.relative_to(settings.BASE_DIR)} imports secalerts.{name}"
        for path in _app_modules(app)
        for name in _imports_of_ours(path) - allowed
    }

    assert not wrong, sorted(wrong)


def test_every_app_has_a_layer():
    apps = {p.name for p in (Path(settings.BASE_DIR) / "secalerts").iterdir() if p.is_dir()}

    assert apps - {"__pycache__"} == {*LAYERS, *PURE}
