"""Alerts in the Django admin: read-only, so every change goes through the triage API and
its history; history can be read, never edited or deleted."""

from django.contrib import admin
from django.http import HttpRequest

from secalerts.alerts.models import Alert, AlertHistory
from secalerts.core.admin import ReadOnlyAdmin


class AlertHistoryInline(admin.TabularInline):
    model = AlertHistory
    extra = 0
    fields = ("created_at", "actor", "field", "old_value", "new_value", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "severity", "status", "event_count", "assigned_to", "created_at")
    list_filter = ("status", "severity", "rule")
    search_fields = ("title",)
    list_select_related = ("rule", "assigned_to")
    inlines = (AlertHistoryInline,)
    exclude = ("events",)


@admin.register(AlertHistory)
class AlertHistoryAdmin(ReadOnlyAdmin):
    list_display = ("alert", "field", "old_value", "new_value", "actor", "created_at")
    list_select_related = ("alert", "actor")
