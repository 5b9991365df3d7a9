"""Logsource mappings in the Django admin: the table users extend."""

from django.contrib import admin

from secalerts.sigma.models import LogsourceMapping


@admin.register(LogsourceMapping)
class LogsourceMappingAdmin(admin.ModelAdmin):
    list_display = ("product", "category", "service", "enabled")
    list_filter = ("enabled", "product")
    search_fields = ("product", "category", "service")
