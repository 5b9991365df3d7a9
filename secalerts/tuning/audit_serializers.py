"""Audit entry shape (read only)."""

from rest_framework import serializers

from secalerts.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ("id", "at", "actor_kind", "actor", "action", "target_type", "target_id",
                  "target_repr", "before", "after")  # fmt: skip
        read_only_fields = fields
