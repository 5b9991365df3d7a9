"""Rule shapes: one serializer for reading and writing; compiling is the model's clean()."""

from typing import Any

from rest_framework import serializers

from secalerts import detection
from secalerts.core.strict_fields import StrictCharField, StrictIntegerField, StrictModelSerializer
from secalerts.rules.models import SEVERITY_CHOICES, Rule, compile_definition


class RuleSerializer(StrictModelSerializer):
    severity = serializers.ChoiceField(choices=[value for value, _ in SEVERITY_CHOICES])
    condition = serializers.JSONField(
        help_text='Condition tree: {"all": [...]}, {"any": [...]}, {"not": {...}}, '
        'or a leaf {"field": F, "op": OP, "value": V}.'
    )
    group_by = serializers.ListField(
        child=StrictCharField(max_length=200), required=False, max_length=10
    )
    threshold = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='{"count": N, "window_seconds": W, "distinct_field": F?} or null.',
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
            "dedup_window_seconds",
            "sigma",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "sigma", "created_at", "updated_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("condition", "group_by", "threshold")
        }
        try:
            compile_definition(
                rule_id=None,
                condition=merged["condition"],
                group_by=merged["group_by"] or [],
                threshold=merged["threshold"],
            )
        except detection.RuleSyntaxError as error:
            field = error.path.split(".")[0].split("[")[0]
            field = field if field in merged else "condition"
            raise serializers.ValidationError({field: [str(error)]}) from error
        return attrs
