"""AuditEntry: one change, kept for good (nothing updates or deletes entries)."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    at = models.DateTimeField(help_text="When the change was committed.")
    # Who: the kind of credential ("user", "api_key", "system"), its name, and the user
    # when there is one (kept as a name too: the user may be deleted later).
    actor_kind = models.CharField(max_length=16)
    actor = models.CharField(max_length=255)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # an entry outlives its user; no lock on the user table
    )
    action = models.CharField(max_length=32)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=255, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = (
            models.Index(fields=("target_type", "target_id", "-id"), name="audit_target"),
            models.Index(fields=("at",), name="audit_at"),
        )
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_type} {self.target_id}"
