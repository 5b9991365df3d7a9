"""Query-string filters for the event list."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from secalerts.events.models import Event, Severity


class IPAddressFilter(django_filters.CharFilter):
    """An exact IP match; a malformed address is a 400, never a database error."""

    field_class = forms.GenericIPAddressField


class GivenMeansValid(forms.Field):
    """A parameter sent empty (`?until=`) is an invalid value, not an absent one: the
    schema gives it a type, and silently ignoring it would widen the query."""

    def to_python(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError("Enter a value, or leave the parameter out.")
        return super().to_python(value)


class UTCDateTimeField(GivenMeansValid, IsoDateTimeField):
    """ISO 8601, normalized to UTC: PostgreSQL refuses offsets past +-15:59 that Python allows."""

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError as error:
            raise forms.ValidationError("Date out of range.") from error


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class EventFilter(django_filters.FilterSet):
    event_type = django_filters.CharFilter()
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    source = django_filters.CharFilter()
    source_ip = IPAddressFilter()
    username = django_filters.CharFilter()
    since = UTCDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = Event
        fields = ("event_type", "severity", "source", "source_ip", "username", "since", "until")
