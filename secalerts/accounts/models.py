"""API keys: credentials for sensors and log shippers, which cannot log in every 15 minutes."""

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A key is shown once, at creation; only its prefix (to find it) and a hash of its
    secret (to check it) are stored. Revoked keys stay, for the record."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    source = models.CharField(
        max_length=255, blank=True, default="", help_text="Default `source` of its events."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
