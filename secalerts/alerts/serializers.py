"""Alert shapes: list, detail (adds events and history), history, and the PATCH inputs."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from secalerts.alerts.models import Alert, AlertEvent, AlertHistory, AlertStatus
from secalerts.alerts.payloads import alert_payload
from secalerts.core.columns import BIGINT_MAX
from secalerts.core.strict_fields import StrictCharField, StrictIntegerField
from secalerts.events.models import Severity
from secalerts.events.storage import newest_first


class RuleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AlertSerializer(serializers.Serializer):
    """The list shape, `payloads.ALERT_FIELDS`: `alert_payload` builds it (pushes share it);
    these fields document it (test_schema_contract keeps the two equal)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    rule = RuleRefSerializer(allow_null=True)
    group = serializers.DictField(help_text="The rule's group_by values, e.g. {source_ip: ...}.")
    source_ip = serializers.IPAddressField(allow_null=True)
    event_count = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    assigned_to = serializers.CharField(allow_null=True, help_text="Username, or null.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: Alert) -> dict[str, Any]:
        return alert_payload(instance)


class AlertHistorySerializer(serializers.ModelSerializer):
    actor: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    old_value = serializers.JSONField(allow_null=True)
    new_value = serializers.JSONField(allow_null=True)

    class Meta:
        model = AlertHistory
        fields = ("id", "actor", "field", "old_value", "new_value", "note", "created_at")


class AlertDetailSerializer(AlertSerializer):
    events = serializers.ListField(child=serializers.UUIDField(), help_text="Linked event ids.")
    history = AlertHistorySerializer(many=True)

    def to_representation(self, instance: Alert) -> dict[str, Any]:
        return alert_payload(instance) | {
            "events": [
                str(pk)
                for pk in newest_first(AlertEvent.objects.filter(alert=instance).values("event_id"))
            ],
            "history": AlertHistorySerializer(
                instance.history.select_related("actor"), many=True
            ).data,
        }


class AlertUpdateInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    assigned_to = StrictCharField(
        required=False, allow_null=True, max_length=150, help_text="A username, or null."
    )
    note = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not ({"status", "assigned_to"} & set(attrs)) and not attrs.get("note"):
            raise serializers.ValidationError("Send status, assigned_to or note.")
        return attrs


class AlertBulkUpdateInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=BIGINT_MAX),
        min_length=1,
        max_length=1000,
    )
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    note = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")


class AlertBulkUpdateResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text="Alerts whose status changed.")


class GivenMeansValid(serializers.Field):
    """A query parameter sent empty (`?until=`) is checked as a value, not taken as absent:
    DRF skips empty form values of optional fields, which would widen the query."""

    def get_value(self, dictionary: Any) -> Any:
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class QueryChoiceField(GivenMeansValid, serializers.ChoiceField):
    pass


class QueryDateTimeField(GivenMeansValid, serializers.DateTimeField):
    pass


class AlertStatsQuerySerializer(serializers.Serializer):
    bucket = QueryChoiceField(choices=("hour", "day"), default="hour")
    since = QueryDateTimeField(
        required=False,
        help_text="Start (moved back to its bucket's start); default: 24 hours "
        "(bucket=hour) or 30 days (bucket=day) before `until`.",
    )
    until = QueryDateTimeField(required=False, help_text="End, exclusive; default: now.")


class AlertStatsPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Alerts created in the bucket, by severity."
    )


class AlertStatsRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class AlertStatsSourceSerializer(serializers.Serializer):
    source_ip = serializers.IPAddressField()
    count = serializers.IntegerField()


class AlertStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Every alert, whenever created.")
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_severity = serializers.DictField(child=serializers.IntegerField())
    bucket = serializers.ChoiceField(choices=("hour", "day"))
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    series = AlertStatsPointSerializer(many=True, help_text="Every bucket from since to until.")
    top_rules = AlertStatsRuleSerializer(many=True, help_text="Up to 10, most alerts first.")
    top_source_ips = AlertStatsSourceSerializer(many=True, help_text="Up to 10.")
