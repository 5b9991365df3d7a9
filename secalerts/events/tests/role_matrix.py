"""Role-matrix rows for the events routes (see tests/test_role_matrix.py)."""

from django.urls import reverse

from secalerts.events.models import Event
from tests.role_matrix import Row


def _event() -> Event:
    from django.utils import timezone

    now = timezone.now()
    return Event.objects.create(timestamp=now, received_at=now, event_type="x.y", source="s")


ROWS: list[Row] = [
    Row("api/events/", "get", "read", lambda _: reverse("events:list")),
    Row(
        "api/events/",
        "post",
        "ingest",
        lambda _: reverse("events:list"),
        body=lambda _: {"event_type": "auth.failure", "source": "matrix"},
        state=lambda _: Event.objects.count(),
    ),
    Row(
        "api/events/<uuid:pk>/",
        "get",
        "read",
        lambda event: reverse("events:detail", args=[event.pk]),
        setup=_event,
    ),
]
