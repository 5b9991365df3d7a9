"""Rules in the Django admin; saves go through the rule services."""

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from secalerts.audit.services import actor_of_user, record, snapshot
from secalerts.core.errors import ConflictError
from secalerts.rules import registry, services
from secalerts.rules.models import Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("name", "enabled", "severity", "threshold", "updated_at")
    list_filter = ("enabled", "severity")
    search_fields = ("name", "description")

    def save_model(self, request: HttpRequest, obj: Rule, form: ModelForm, change: bool) -> None:
        services.save_rule(rule=obj, actor=actor_of_user(request.user))

    def delete_model(self, request: HttpRequest, obj: Rule) -> None:
        services.delete_rule(rule=obj, actor=actor_of_user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        with transaction.atomic():
            services.check_unreferenced(rule_ids=set(queryset.values_list("pk", flat=True)))
            actor = actor_of_user(request.user)
            for rule in queryset:
                before = snapshot(rule, services.AUDITED_FIELDS)
                record(actor=actor, action="deleted", target=rule, before=before)
            super().delete_queryset(request, queryset)
            registry.bump_version()

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ConflictError as error:  # a correlation rule references it: nothing deleted
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:rules_rule_change", args=[object_id]))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except ConflictError as error:  # the bulk delete action, refused as a whole
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"condition": {"field": "event_type", "op": "eq", "value": "auth.failure"}}
