"""Role-matrix rows for the intake routes (see tests/test_role_matrix.py)."""

from django.urls import reverse

from secalerts.events.models import Event
from tests.role_matrix import Row

LINE = "Dec 10 06:55:46 web-1 sshd[24200]: Invalid user admin from 203.0.113.9"


def _events(_: object = None) -> int:
    return Event.objects.count()


ROWS: list[Row] = [
    Row(
        "api/intake/syslog/",
        "post",
        "ingest",
        lambda _: reverse("intake:syslog"),
        body=lambda _: [{"message": LINE}],
        state=_events,
    ),
    Row(
        "api/intake/ecs/",
        "post",
        "ingest",
        lambda _: reverse("intake:ecs"),
        body=lambda _: [
            {
                "@timestamp": "2026-12-01T00:00:00Z",
                "host": {"name": "web-1"},
                "event": {"action": "login"},
            }
        ],
        state=_events,
    ),
]
