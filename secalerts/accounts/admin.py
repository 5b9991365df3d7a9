"""API keys in the Django admin: listed and revocable, never shown or created here
(a key is shown once, by the API or `manage.py create_api_key`)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from secalerts.accounts.api_keys import revoke_key
from secalerts.accounts.models import ApiKey
from secalerts.audit.services import actor_of_user


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "source", "created_by", "created_at",
                    "expires_at", "last_used_at", "revoked_at")  # fmt: skip
    readonly_fields = ("name", "prefix", "scopes", "source", "created_by", "created_at",
                       "expires_at", "last_used_at", "revoked_at")  # fmt: skip
    exclude = ("secret_hash",)
    search_fields = ("name", "prefix")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the record stays

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_key(key_id=key.pk, actor=actor_of_user(request.user))
