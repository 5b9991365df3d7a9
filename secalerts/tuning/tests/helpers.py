"""What the tuning tests share: posting as a user, and the rows ingestion writes."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse

from secalerts.alerts.models import Alert, AlertEvent
from secalerts.audit.models import AuditEntry
from secalerts.events.models import Event
from secalerts.rules.models import Rule, RuleSetVersion, ThresholdHitPack
from secalerts.tuning.models import Suppression

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAILURE = {"field": "event_type", "op": "eq", "value": "auth.failure"}


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def event(seconds: float = 0, **fields) -> dict:
    return {"event_type": "auth.failure", "source": "sshd", "timestamp": at(seconds)} | fields


def post(api_client, bearer, user, name: str, body, *args):
    return api_client.post(
        reverse(f"tuning:{name}", args=args), body, format="json",
        HTTP_AUTHORIZATION=bearer(user),
    )  # fmt: skip


def ingest(api_client, bearer, user, events: list[dict]):
    response = api_client.post(
        reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=bearer(user)
    )
    assert response.status_code == 201, response.content
    return response


def stored_counts() -> dict[str, object]:
    """Rows of every table ingestion and the tuning endpoints write."""
    models = (Event, Alert, AlertEvent, ThresholdHitPack, Suppression, AuditEntry, Rule)
    counts: dict[str, object] = {model.__name__: model.objects.count() for model in models}
    counts["stamp"] = RuleSetVersion.objects.values_list("stamp", flat=True).first()
    return counts
