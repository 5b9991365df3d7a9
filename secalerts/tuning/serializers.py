"""Shapes of rule tests, backtests and suppressions."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from secalerts.core.strict_fields import StrictCharField, StrictModelSerializer
from secalerts.rules.models import SEVERITY_CHOICES, Rule
from secalerts.rules.serializers import RuleSerializer
from secalerts.tuning.models import Suppression


class RuleDefinitionSerializer(RuleSerializer):
    """A rule to test: the fields of a saved rule, none stored, the name optional."""

    name = StrictCharField(max_length=200, required=False, default="Rule test")
    severity = serializers.ChoiceField(
        choices=[value for value, _ in SEVERITY_CHOICES], required=False, default="medium"
    )


class RuleTestSerializer(serializers.Serializer):
    rule = serializers.JSONField(
        help_text="A rule as POST /api/rules/ takes it (name optional), or Sigma YAML text."
    )
    events = serializers.ListField(
        child=serializers.JSONField(),
        allow_empty=False,
        max_length=settings.EVENTS_MAX_BATCH,
        help_text="Events as POST /api/events/ takes them.",
    )


class RuleTestResultSerializer(serializers.Serializer):
    matched = serializers.ListField(
        child=serializers.IntegerField(), help_text="Indexes of the events the rule matched."
    )
    alerts = serializers.ListField(
        child=serializers.DictField(),
        help_text="The alerts it would raise, in order, each with the `events` it holds.",
    )


class BacktestSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return attrs


class BacktestResultSerializer(serializers.Serializer):
    rule = serializers.DictField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    events_scanned = serializers.IntegerField()
    events_matched = serializers.IntegerField()
    matches = serializers.ListField(child=serializers.DictField(), help_text="The first 100.")
    alert_count = serializers.IntegerField()
    alerts = serializers.ListField(child=serializers.DictField(), help_text="The first 100.")


class SuppressionSerializer(StrictModelSerializer):
    rule = serializers.PrimaryKeyRelatedField(
        queryset=Rule.objects.all(), required=False, allow_null=True
    )
    group = serializers.JSONField(required=False, allow_null=True)
    condition = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = Suppression
        fields = ("id", "rule", "group", "condition", "reason", "expires_at", "created_by",
                  "created_at", "updated_at", "hits", "last_hit_at")  # fmt: skip
        read_only_fields = ("id", "created_by", "created_at", "updated_at", "hits", "last_hit_at")
