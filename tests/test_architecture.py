"""The pure packages stay pure: importing them loads no Django and none of our apps."""

import subprocess
import sys

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
