"""Shapes for the token and identity endpoints."""

from rest_framework import serializers

from secalerts.core.strict_fields import StrictCharField


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=["admin", "analyst"]))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ApiKeySerializer(serializers.Serializer):
    """An API key as listed: never its secret."""

    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=100)
    prefix = serializers.CharField(read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=["ingest"]))
    # The stubs see this field shadow Field.source; the serializer's metaclass moves
    # declared fields off the class, so nothing is shadowed.
    source = StrictCharField(  # type: ignore[assignment]
        max_length=255, required=False, allow_blank=True, default=""
    )
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown only here.")
