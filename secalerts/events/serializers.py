"""Event shapes: the input contract (documented in OpenAPI) and the stored event."""

from datetime import UTC, datetime
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from secalerts.events.models import Event, Severity
from secalerts.events.validation import (
    EARLIEST_TIMESTAMP,
    EVENT_TYPE_PATTERN,
    LATEST_TIMESTAMP,
    MAX_DATA_BYTES,
    TIMESTAMP_RANGE_ERROR,
)


class FullMatchValidator(RegexValidator):
    """The whole value must match: a search lets "$" match before a trailing newline.
    The pattern itself (with "^...$", whole-string in JSON Schema) goes to OpenAPI."""

    def __call__(self, value: Any) -> None:
        if self.regex.fullmatch(str(value)) is None:
            raise serializers.ValidationError(self.message, code=self.code)


class EventTimestampField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        try:
            instant = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:
            instant = None
        if instant is None or not EARLIEST_TIMESTAMP <= instant <= LATEST_TIMESTAMP:
            raise serializers.ValidationError(TIMESTAMP_RANGE_ERROR)
        return parsed


class EventIPAddressField(serializers.IPAddressField):
    def to_internal_value(self, data: Any) -> str:
        # A scope id (see validation._canonical_ip); Django's check would drop it.
        if isinstance(data, str) and "%" in data:
            raise serializers.ValidationError("Enter a valid IPv4 or IPv6 address.")
        return super().to_internal_value(data)


# Runtime validation is events.validation (msgspec, for speed); this serializer states the
# same contract for the OpenAPI schema, and test_validation_contract keeps the two equal.
class EventInputSerializer(serializers.Serializer):
    """One security event as a sensor sends it."""

    id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Client-chosen id: retries are idempotent."
    )
    timestamp = EventTimestampField(
        required=False,
        allow_null=True,
        help_text=(
            "ISO 8601; no zone means UTC; default: now. "
            "From 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z."
        ),
    )
    event_type = serializers.CharField(
        max_length=100,
        trim_whitespace=False,  # stored as sent, so a newline must be refused, not trimmed
        validators=[FullMatchValidator(EVENT_TYPE_PATTERN)],
        help_text="Lowercase words of a-z 0-9 _ - joined by dots, e.g. auth.failure.",
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, help_text="Default info."
    )
    source = serializers.CharField(max_length=255, help_text="The sensor or host that reported it.")
    source_ip = EventIPAddressField(required=False, allow_null=True)
    destination_ip = EventIPAddressField(required=False, allow_null=True)
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
            "received_by",
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
        "received_by": event.get("received_by"),
    }


def _iso(value: Any) -> str:
    # DRF's DateTimeField output: ISO 8601 with "Z" for UTC.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
