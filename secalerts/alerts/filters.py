"""Query-string filters and ordering for the alert list."""

from collections.abc import Mapping
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from secalerts.alerts.models import Alert, AlertStatus
from secalerts.core.columns import BIGINT_MAX
from secalerts.core.errors import InvalidInput
from secalerts.events.filters import GivenMeansValid, IPAddressFilter, UTCDateTimeFilter
from secalerts.events.models import Severity


class IdField(GivenMeansValid, forms.IntegerField):
    pass


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.Filter):
    """A whole number that fits the id column (a float or a huge number is a 400)."""

    field_class = IdField

    def __init__(self, field_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(field_name, min_value=1, max_value=BIGINT_MAX, **kwargs)


class AlertFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AlertStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    rule = IdFilter(field_name="rule_id")
    assigned_to = django_filters.CharFilter(field_name="assigned_to__username")
    source_ip = IPAddressFilter()
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Alert
        fields = (
            "status",
            "severity",
            "rule",
            "assigned_to",
            "source_ip",
            "search",
            "created_after",
            "created_before",
        )


class AlertOrdering(OrderingFilter):
    """`?ordering=` on created_at, last_seen or severity (each may start with "-"); the id
    always breaks ties, so cursor pages neither skip nor repeat alerts."""

    ordering_fields = ("created_at", "last_seen", "severity")
    ordering_param = "ordering"
    columns: ClassVar[dict[str, str]] = {
        "created_at": "created_at",
        "last_seen": "last_seen",
        "severity": "severity_rank",
    }

    def get_valid_fields(
        self, queryset: QuerySet, view: APIView, context: Mapping[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        return [(name, name) for name in self.ordering_fields]

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list[str]:
        # DRF drops unknown terms silently; the schema's enum makes them a 400.
        raw = request.query_params.get(self.ordering_param)
        if raw is not None and raw.removeprefix("-") not in self.columns:
            choices = ", ".join(f"{name}, -{name}" for name in self.ordering_fields)
            raise InvalidInput(
                "Invalid ordering.", detail={self.ordering_param: [f"Choose one of {choices}."]}
            )
        ordering = super().get_ordering(request, queryset, view) or ["-created_at"]
        first = ordering[0]
        descending = first.startswith("-")
        column = ("-" if descending else "") + self.columns[first.lstrip("-")]
        return [column, "-id" if descending else "id"]
