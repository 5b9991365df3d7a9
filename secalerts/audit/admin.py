"""The audit trail in the Django admin: read only, like the API."""

from django.contrib import admin

from secalerts.audit.models import AuditEntry
from secalerts.core.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "target_type", "target_id", "target_repr")
    list_filter = ("action", "target_type", "actor_kind")
    search_fields = ("actor", "target_repr", "target_id")
