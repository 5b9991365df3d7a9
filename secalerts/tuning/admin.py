"""Suppressions in the Django admin: read only (changes go through the API, which
audits them)."""

from django.contrib import admin

from secalerts.core.admin import ReadOnlyAdmin
from secalerts.tuning.models import Suppression


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule", "reason", "expires_at", "hits", "last_hit_at", "created_by")
