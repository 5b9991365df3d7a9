"""Every `sh` example in README.md and docs/*.md runs, as written, against a live server.

Each file's examples run top to bottom in one bash session (`set -euo pipefail`), so a
variable one example sets (`ACCESS=$(curl ...)`) serves the next, as it would for a
reader. `localhost:8000` is this test's Daphne; `ADMIN_PASSWORD`, `ANALYST_PASSWORD`
and `PASSWORD` are set, the demo users `admin` and `analyst` exist. A `curl` must answer
below 400, or exactly the status of a `# -> 401` comment on its command. `manage.py`
commands run against the test database; servers, prompts and installers have their
options checked instead (doc_example_stubs.py); `make` targets must exist in the
Makefile; host tools (`pg_dump`, `systemctl`, ...) are shown, not run.
"""

import contextlib
import functools
import importlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError

from secalerts.accounts.roles import Role
from secalerts.accounts.services import create_user_with_role
from tests.e2e.conftest import test_database_url as database_url
from tests.markdown_docs import DOCS, ROOT, blocks, commands

SHIPPED_RULES = "secalerts.rules.migrations.0002_default_rules"
STUBS = Path(__file__).with_name("doc_example_stubs.py")
HOST_TOOLS = ("sudo", "systemctl", "journalctl", "pg_dump", "pg_restore", "psql", "sqlite3")
ADMIN_PASSWORD = "doc-example-admin-Password-1"
ANALYST_PASSWORD = "doc-example-analyst-Password-1"

PRELUDE = r"""
set -euo pipefail
__at=0 __expect= __body=$(mktemp)
trap 'echo "doc line $__at failed: $BASH_COMMAND" >&2' ERR
trap '__rc=$?; rm -f "$__body"; if ((__rc)); then echo "stopped at doc line $__at (exit $__rc)" >&2; fi' EXIT
curl() {
    local status
    status=$(command curl -sS -o "$__body" -w '%{http_code}' "$@") || return
    cat "$__body"
    if [[ -n $__expect && $status != "$__expect" ]]; then
        echo "doc line $__at: HTTP $status, the example says $__expect" >&2; return 1
    fi
    if [[ -z $__expect && $status -ge 400 ]]; then
        echo "doc line $__at: HTTP $status" >&2; return 1
    fi
}
make() {
    local target
    for target in "$@"; do
        [[ $target == *=* ]] && continue
        grep -qE "^$target:" "$MAKEFILE" || { echo "no make target $target" >&2; return 1; }
    done
}
"""


def documents_with_examples() -> list[Path]:
    return [path for path in DOCS if any(b.language == "sh" for b in blocks(path))]


def script(path: Path, base_url: str) -> str:
    """The file's `sh` blocks as one bash script, each command tagged with its doc line."""
    host = base_url.removeprefix("http://")
    lines = [PRELUDE]
    lines += [f"{tool}() {{ :; }}" for tool in HOST_TOOLS]
    for block in blocks(path):
        if block.language != "sh":
            continue
        for command in commands(block):
            expect = command.expected_status or ""
            lines.append(f"__at={command.line} __expect={expect}")
            lines.append(command.text.replace("localhost:8000", host))
    return "\n".join(lines) + "\n"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory laid out like the checkout, with `.venv/bin` commands stubbed."""
    for name in ("manage.py", "bench", "requirements.txt"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "var").mkdir()
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for program in ("python", "daphne"):
        stub = bin_dir / program
        stub.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(STUBS))} {program} "$@"\n'
        )
        stub.chmod(0o755)
    return tmp_path


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
    reason="the doc examples need curl, jq and bash",
)
@pytest.mark.parametrize("path", documents_with_examples(), ids=lambda path: path.name)
def test_doc_examples_run(path: Path, start_daphne: Callable[..., str], workdir: Path) -> None:
    # The shipped rules, as a fresh install has them (an earlier test's flush removed them).
    importlib.import_module(SHIPPED_RULES).create_default_rules(apps, None)
    create_user_with_role(username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN)
    create_user_with_role(username="analyst", password=ANALYST_PASSWORD, role=Role.ANALYST)
    needs_server = "localhost:8000" in path.read_text()
    base_url = start_daphne() if needs_server else "http://localhost:8000"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": str(settings.BASE_DIR),
        "STATIC_ROOT": str(workdir / "var" / "static"),
        "MAKEFILE": str(ROOT / "Makefile"),
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANALYST_PASSWORD": ANALYST_PASSWORD,
        "PASSWORD": "doc-example-new-Password-1",
        "DOC_EXAMPLE_CHECKS": str(workdir / "not-run.jsonl"),
    }

    result = subprocess.run(
        ["bash", "-c", script(path, base_url)],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, f"{path.name}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    checks = workdir / "not-run.jsonl"
    for kind, args in map(json.loads, checks.read_text().splitlines() if checks.exists() else []):
        assert options_parse(kind, args), f"{path.name}: {kind} {shlex.join(args)}"


def options_parse(kind: str, args: list[str]) -> bool:
    """Whether the real command accepts these options (the command is not run)."""
    if kind == "bench":
        return benchmark_options_exist(args[0], args[1:])
    if kind == "daphne":
        from daphne.cli import CommandLineInterface

        parser = CommandLineInterface().parser
    else:
        from django.core.management import get_commands, load_command_class

        name, args = args[0], args[1:]
        parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            parser.parse_args(args)
    except (SystemExit, CommandError):
        return False
    return True


def benchmark_options_exist(script: str, args: list[str]) -> bool:
    """Benchmarks take minutes: their options must be ones their `--help` lists."""
    options = [arg.split("=")[0] for arg in args if arg.startswith("--")]
    usage = benchmark_usage(script)
    return usage is not None and all(f"{option} " in usage for option in options)


@functools.cache
def benchmark_usage(script: str) -> str | None:
    result = subprocess.run(
        [sys.executable, script, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None
