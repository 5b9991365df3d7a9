"""Query-string filters for the event list."""

import django_filters
from django import forms

from secalerts.events.models import Event, Severity


class IPAddressFilter(django_filters.CharFilter):
    """An exact IP match; a malformed address is a 400, never a database error."""

    field_class = forms.GenericIPAddressField


class EventFilter(django_filters.FilterSet):
    event_type = django_filters.CharFilter()
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    source = django_filters.CharFilter()
    source_ip = IPAddressFilter()
    username = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = Event
        fields = ("event_type", "severity", "source", "source_ip", "username", "since", "until")
