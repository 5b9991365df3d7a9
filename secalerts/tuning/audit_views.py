"""Audit API: Admin reads; there is no route that changes an entry."""

from django.db.models import QuerySet
from rest_framework import generics
from rest_framework.request import Request

from secalerts.accounts.permissions import IsAdminRole
from secalerts.audit.models import AuditEntry
from secalerts.core.pagination import KeysetPagination
from secalerts.tuning.audit_filters import AuditFilter
from secalerts.tuning.audit_serializers import AuditEntrySerializer


class AuditListView(generics.ListAPIView):
    """Newest first; filter by target_type, target_id, actor, action, since, until."""

    permission_classes = (IsAdminRole,)
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return AuditEntry.objects.all()

    def get_ordering(self, request: Request) -> list[str]:
        return ["-id", "-id"]
