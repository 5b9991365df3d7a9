"""Rule shapes: one serializer for reading and writing; compiling is the model's clean()."""

from typing import Any

from rest_framework import serializers

from secalerts import detection
from secalerts.core.strict_fields import StrictCharField, StrictIntegerField, StrictModelSerializer
from secalerts.rules.models import (
    DEFINITION_FIELDS,
    SEVERITY_CHOICES,
    Rule,
    check_definition,
    field_of,
)


class RuleSerializer(StrictModelSerializer):
    severity = serializers.ChoiceField(choices=[value for value, _ in SEVERITY_CHOICES])
    condition = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='Condition tree: {"all": [...]}, {"any": [...]}, {"not": {...}}, '
        'or a leaf {"field": F, "op": OP, "value": V}. Null for a correlation rule.',
    )
    group_by = serializers.ListField(
        child=StrictCharField(max_length=200), required=False, max_length=10
    )
    threshold = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='{"count": N, "window_seconds": W, "distinct_field": F?} or null.',
    )
    correlation = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='{"type": "event_count" | "value_count" | "temporal" | "temporal_ordered", '
        '"rules": [rule ids], "timespan_seconds": N, "condition": {"gte" | "gt": N}, '
        '"field": F (value_count), "aliases": {...}} or null. See docs/rules.md.',
    )
    generate = serializers.BooleanField(
        required=False, help_text="Raises alerts of its own (false: only feeds correlations)."
    )
    dedup_window_seconds = StrictIntegerField(min_value=0, max_value=31_536_000, default=3600)

    class Meta:
        model = Rule
        fields = (
            "id",
            "name",
            "description",
            "enabled",
            "severity",
            "condition",
            "group_by",
            "threshold",
            "correlation",
            "generate",
            "dedup_window_seconds",
            "sigma",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "sigma", "created_at", "updated_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None)) for name in DEFINITION_FIELDS
        }
        try:
            check_definition(
                rule_id=getattr(self.instance, "pk", None),
                condition=merged["condition"],
                group_by=merged["group_by"] or [],
                threshold=merged["threshold"],
                correlation=merged["correlation"],
            )
        except detection.RuleSyntaxError as error:
            raise serializers.ValidationError({field_of(error): [str(error)]}) from error
        return attrs
