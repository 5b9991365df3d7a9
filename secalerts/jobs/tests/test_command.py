"""`manage.py scheduler --once` in its own process, against the test database."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from secalerts.alerts.tests.factories import RuleFactory
from secalerts.rules.models import ThresholdHitPack
from tests.e2e import conftest as e2e

pytestmark = pytest.mark.django_db(transaction=True)  # the command's process reads the rows


def hit_pack(*, age: timedelta) -> ThresholdHitPack:
    created_at = timezone.now() - age
    return ThresholdHitPack.objects.create(
        rule=RuleFactory(),
        key="k" * 64,
        first_timestamp=created_at,
        last_timestamp=created_at,
        hits="[]",
        created_at=created_at,
    )


def scheduler(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "scheduler", *options],
        cwd=settings.BASE_DIR,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
            "DATABASE_URL": e2e.test_database_url(),
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_once_prunes_threshold_state_past_its_lifetime_and_exits():
    lifetime = timedelta(seconds=settings.THRESHOLD_STATE_SECONDS)
    expired = hit_pack(age=lifetime + timedelta(hours=1))
    live = hit_pack(age=lifetime - timedelta(hours=1))

    result = scheduler("--once", "--job", "prune_thresholds")

    assert result.returncode == 0, result.stderr
    assert list(ThresholdHitPack.objects.values_list("pk", flat=True)) == [live.pk]
    assert not ThresholdHitPack.objects.filter(pk=expired.pk).exists()


def test_an_unknown_job_is_refused():
    result = scheduler("--once", "--job", "no_such_job")

    assert result.returncode != 0
    assert "no_such_job" in result.stderr
