"""Event shapes: the input contract (documented in OpenAPI) and the stored event."""

from typing import Any

from rest_framework import serializers

from secalerts.events.models import Event, Severity
from secalerts.events.validation import EVENT_TYPE_PATTERN, MAX_DATA_BYTES


# Runtime validation is events.validation (msgspec, for speed); this serializer states the
# same contract for the OpenAPI schema, and test_validation_contract keeps the two equal.
class EventInputSerializer(serializers.Serializer):
    """One security event as a sensor sends it."""

    id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Client-chosen id: retries are idempotent."
    )
    timestamp = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601; no zone means UTC; default: now."
    )
    event_type = serializers.RegexField(
        EVENT_TYPE_PATTERN,
        max_length=100,
        help_text="Lowercase words of a-z 0-9 _ - joined by dots, e.g. auth.failure.",
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, help_text="Default info."
    )
    source = serializers.CharField(max_length=255, help_text="The sensor or host that reported it.")
    source_ip = serializers.IPAddressField(required=False, allow_null=True)
    destination_ip = serializers.IPAddressField(required=False, allow_null=True)
    destination_port = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=65535
    )
    username = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=255
    )
    message = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=10_000
    )
    data = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=f"Free-form JSON object, at most {MAX_DATA_BYTES} bytes and 32 levels deep.",
    )


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = (
            "id",
            "timestamp",
            "received_at",
            "event_type",
            "severity",
            "source",
            "source_ip",
            "destination_ip",
            "destination_port",
            "username",
            "message",
            "data",
        )


class EventCreatedSerializer(EventSerializer):
    alerts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the alerts raised or updated."
    )

    class Meta(EventSerializer.Meta):
        fields = (*EventSerializer.Meta.fields, "alerts")


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(help_text="Events whose id was already stored.")
    alerts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the alerts raised or updated."
    )


def event_payload(event: dict[str, Any], received_at: Any) -> dict[str, Any]:
    """The stored-event shape of a validated event dict, without a database round trip."""
    return {
        "id": str(event["id"]),
        "timestamp": _iso(event["timestamp"]),
        "received_at": _iso(received_at),
        "event_type": event["event_type"],
        "severity": event["severity"],
        "source": event["source"],
        "source_ip": event["source_ip"],
        "destination_ip": event["destination_ip"],
        "destination_port": event["destination_port"],
        "username": event["username"],
        "message": event["message"],
        "data": event["data"],
    }


def _iso(value: Any) -> str:
    # DRF's DateTimeField output: ISO 8601 with "Z" for UTC.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
