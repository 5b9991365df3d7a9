"""Suppression: matches it covers raise and update no alert until it expires."""

from django.db import models

from secalerts.rules.models import Rule


class Suppression(models.Model):
    """Covers a match when every part given holds: the rule, the group values (a subset
    of the match's group), the condition (on each of the match's events in the batch)."""

    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.CASCADE)
    group = models.JSONField(null=True, blank=True, help_text='e.g. {"source_ip": "10.0.0.5"}')
    condition = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    expires_at = models.DateTimeField()
    created_by = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    hits = models.PositiveBigIntegerField(default=0, editable=False)
    last_hit_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-id",)
        indexes = (models.Index(fields=("expires_at",), name="suppression_expiry"),)

    def __str__(self) -> str:
        return f"suppression {self.pk}: {self.reason[:60]}"
