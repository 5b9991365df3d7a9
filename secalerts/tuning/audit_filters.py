"""Query-string filters for the audit trail."""

import django_filters

from secalerts.audit.models import AuditEntry
from secalerts.events.filters import UTCDateTimeFilter


class AuditFilter(django_filters.FilterSet):
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    actor = django_filters.CharFilter()
    action = django_filters.CharFilter()
    since = UTCDateTimeFilter(field_name="at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = AuditEntry
        fields = ("target_type", "target_id", "actor", "action", "since", "until")
