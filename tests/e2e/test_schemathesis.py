"""Schemathesis against our own /api/schema/ on a live Daphne, as Admin and as Analyst.

Bounded in time; fails on any 5xx and on any response the schema does not describe
(status code, content type, body shape).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from secalerts.ingest.endpoint import post_events
from secalerts.rules.services import create_rule

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
SECONDS_PER_ROLE = os.environ.get("SCHEMATHESIS_SECONDS", "45")
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection"
)


def seed() -> None:
    """A few rules, events and alerts, so detail routes have something to find."""
    create_rule(
        name="Seed brute force",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
        group_by=["source_ip"],
    )
    now = timezone.now().isoformat()
    body = [
        {
            "event_type": "auth.failure",
            "source": "seed",
            "source_ip": f"192.0.2.{i}",
            "timestamp": now,
        }
        for i in range(1, 6)
    ]
    post_events(json.dumps(body).encode(), "application/json", sender=None)


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_schemathesis_finds_no_server_error_or_schema_violation(
    start_daphne, admin_user, analyst_user, bearer, role
):
    seed()
    base = start_daphne(
        THROTTLE_USER_RATE="", THROTTLE_ANON_RATE="", LOGIN_FAILURES_PER_MINUTE="100000"
    )
    user = admin_user if role == "admin" else analyst_user

    result = subprocess.run(
        [
            SCHEMATHESIS, "run", f"{base}/api/schema/",
            "--header", f"Authorization: {bearer(user)}",
            "--checks", CHECKS,
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-time", SECONDS_PER_ROLE,
            "--max-examples", "25",
            "--workers", "1",
            "--seed", "20261124",
            "--no-color",
        ],
        capture_output=True, text=True, timeout=int(SECONDS_PER_ROLE) * 4 + 60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
