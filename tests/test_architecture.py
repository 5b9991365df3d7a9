"""The detection engine stays pure: importing it loads no Django."""

import subprocess
import sys

from django.conf import settings


def test_detection_imports_no_django():
    code = (
        "import sys, secalerts.detection;"
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
