"""Event shapes: the input contract (documented in OpenAPI) and the stored event."""

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from django.core.validators import RegexValidator
from rest_framework import serializers

from secalerts.core.strict_fields import StrictCharField, StrictIntegerField
from secalerts.detection.schema import (
    EARLIEST_TIMESTAMP,
    EVENT_SCHEMA,
    EVENT_TYPE_PATTERN,
    LATEST_TIMESTAMP,
    SEVERITIES,
    EventField,
    Kind,
    iso_time,
)
from secalerts.events.models import Event
from secalerts.events.validation import TIMESTAMP_RANGE_ERROR, json_limits, json_object_error

_encode = msgspec.json.Encoder().encode


class FullMatchValidator(RegexValidator):
    """The whole value must match: a search lets "$" match before a trailing newline.
    The pattern itself (with "^...$", whole-string in JSON Schema) goes to OpenAPI."""

    def __call__(self, value: Any) -> None:
        if re.fullmatch(self.regex, str(value)) is None:
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


class StrictUUIDField(serializers.UUIDField):
    """Text only: DRF would read an integer as a UUID."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class JSONObjectField(serializers.DictField):
    def __init__(self, *, max_bytes: int, max_depth: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes, self.max_depth = max_bytes, max_depth

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        error = json_object_error(
            value, _encode(value), max_bytes=self.max_bytes, max_depth=self.max_depth
        )
        if error is not None:
            raise serializers.ValidationError(error)
        return value


class EventIPAddressField(serializers.IPAddressField):
    def to_internal_value(self, data: Any) -> str:
        # A scope id (see validation._canonical_ip); Django's check would drop it.
        if isinstance(data, str) and "%" in data:
            raise serializers.ValidationError("Enter a valid IPv4 or IPv6 address.")
        return super().to_internal_value(data)


def _input_field(field: EventField) -> serializers.Field:
    """The DRF field stating what events.validation accepts for a sent field."""
    common: dict[str, Any] = {} if field.required else {"required": False, "allow_null": True}
    if field.help_text:
        common["help_text"] = field.help_text
    match field.kind:
        case Kind.UUID:
            return StrictUUIDField(**common)
        case Kind.TIME:
            return EventTimestampField(**common)
        case Kind.EVENT_TYPE:
            return StrictCharField(
                max_length=field.max_length,
                trim_whitespace=False,  # stored as sent, so a newline must be refused, not trimmed
                validators=[FullMatchValidator(EVENT_TYPE_PATTERN)],
                **common,
            )
        case Kind.SEVERITY:
            return serializers.ChoiceField(choices=SEVERITIES, **common)
        case Kind.TEXT:
            return StrictCharField(
                max_length=field.max_length,
                allow_blank=not field.required,
                trim_whitespace=False,  # stored as sent
                **common,
            )
        case Kind.IP:
            return EventIPAddressField(**common)
        case Kind.INTEGER:
            return StrictIntegerField(
                min_value=field.min_value, max_value=field.max_value, **common
            )
        case Kind.JSON:
            _, _, max_bytes, max_depth = json_limits(field)
            common["help_text"] = (
                f"{field.help_text} A JSON object of at most {max_bytes} bytes"
                f" and {max_depth} levels deep."
            )
            return JSONObjectField(max_bytes=max_bytes, max_depth=max_depth, **common)
    raise ValueError(f"{field.name}: a client cannot send a {field.kind} field")


_INPUT_FIELDS = {field.name: _input_field(field) for field in EVENT_SCHEMA if field.sent}


# Runtime validation is events.validation (msgspec, for speed); this serializer states the
# same contract for the OpenAPI schema, and test_validation_contract keeps the two equal.
# Both derive from detection.schema.
class EventInputSerializer(serializers.Serializer):
    """One security event as a sensor sends it."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return copy.deepcopy(_INPUT_FIELDS)  # as DRF copies declared fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and (unknown := data.keys() - self.fields.keys()):
            raise serializers.ValidationError(
                {key: ["Unknown field: free-form values belong in `data`."] for key in unknown}
            )
        return super().to_internal_value(data)


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = tuple(field.name for field in EVENT_SCHEMA)


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


def _payload_value(field: EventField) -> Callable[[Any], Any]:
    """How EventSerializer writes a field's value: ISO times, UUIDs as text."""
    match field.kind:
        case Kind.UUID:
            return lambda value: None if value is None else str(value)
        case Kind.TIME:
            return lambda value: None if value is None else iso_time(value)
    return lambda value: value


_PAYLOAD = tuple((field.name, _payload_value(field)) for field in EVENT_SCHEMA)


def event_payload(event: dict[str, Any], received_at: datetime) -> dict[str, Any]:
    """The stored-event shape (EventSerializer's) of a validated event dict, without a
    database round trip."""
    stored = event | {"received_at": received_at, "received_by": event.get("received_by")}
    return {name: write(stored[name]) for name, write in _PAYLOAD}
