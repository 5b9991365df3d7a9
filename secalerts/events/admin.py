"""Events in the Django admin: read-only, as sensors sent them."""

from django.contrib import admin

from secalerts.core.admin import ReadOnlyAdmin
from secalerts.events.models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "event_type", "severity", "source", "source_ip", "username")
    list_filter = ("severity",)
    search_fields = ("event_type", "source", "username")
    date_hierarchy = "timestamp"
