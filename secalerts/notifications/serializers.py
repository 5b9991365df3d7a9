"""Channel input and output, delivery log output. Validation only; services write."""

from typing import Any

from rest_framework import serializers

from secalerts.core.columns import BIGINT_MAX
from secalerts.notifications.addresses import RefusedAddress, check_url
from secalerts.notifications.models import (
    AlertChange,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
)
from secalerts.rules.models import Rule

HTTP_KINDS = (ChannelKind.WEBHOOK, ChannelKind.SLACK)


class ChannelSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    to = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=50, allow_empty=True
    )
    secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True,
        help_text="Webhook HMAC key; never shown again.",
    )  # fmt: skip
    has_secret = serializers.SerializerMethodField()
    rules = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        required=False,
        max_length=1000,
    )
    on = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertChange.choices),
        required=False,
        allow_empty=False,
        help_text='Default ["alert.created"].',
    )

    class Meta:
        model = Channel
        fields = (
            "id",
            "name",
            "kind",
            "url",
            "to",
            "secret",
            "has_secret",
            "severity_min",
            "rules",
            "on",
            "enabled",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")

    def get_has_secret(self, channel: Channel) -> bool:
        return bool(channel.secret)

    def validate_rules(self, value: list[int]) -> list[int]:
        ids = sorted(set(value))
        known = set(Rule.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown := [pk for pk in ids if pk not in known]:
            raise serializers.ValidationError(f"No such rules: {unknown}.")
        return ids

    def validate_on(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance

        def field(name: str, default: Any) -> Any:
            return attrs.get(name, getattr(current, name) if current else default)

        kind, url, to = field("kind", ""), field("url", ""), field("to", [])
        if kind in HTTP_KINDS:
            if not url:
                raise serializers.ValidationError({"url": f"Required for a {kind} channel."})
            try:
                check_url(url)
            except RefusedAddress as refused:
                raise serializers.ValidationError({"url": str(refused)}) from refused
        elif kind == ChannelKind.EMAIL and not to:
            raise serializers.ValidationError({"to": "Required for an email channel."})
        if current is None and "on" not in attrs:
            attrs["on"] = [AlertChange.CREATED.value]
        return attrs


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("number", "attempted_at", "ok", "response_code", "error", "next_retry_at")


class DeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(source="id", read_only=True)
    alert = serializers.IntegerField(source="alert_id", allow_null=True, read_only=True)
    channel = serializers.IntegerField(source="channel_id", read_only=True)
    next_retry_at = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "delivery_id",
            "channel",
            "alert",
            "type",
            "status",
            "attempts",
            "response_code",
            "error",
            "next_retry_at",
            "created_at",
            "sent_at",
            "attempt_log",
        )
        read_only_fields = fields
