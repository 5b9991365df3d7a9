"""Channels, their version stamp, and the delivery log (the outbox) with its attempts."""

import uuid

from django.db import models

from secalerts.alerts.models import Alert
from secalerts.events.models import Severity


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"


class AlertChange(models.TextChoices):
    CREATED = "alert.created"
    UPDATED = "alert.updated"


TEST_TYPE = "test"


class Channel(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=ChannelKind.choices)
    url = models.URLField(max_length=2000, blank=True, default="")
    to = models.JSONField(default=list, blank=True, help_text="Email addresses.")
    secret = models.CharField(max_length=200, blank=True, default="")
    severity_min = models.CharField(max_length=8, choices=Severity.choices, default="info")
    rules = models.JSONField(default=list, blank=True, help_text="Rule ids; empty: all.")
    on = models.JSONField(default=list, help_text="Alert changes sent.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class ChannelSetVersion(models.Model):
    """One row, rewritten by every channel change: workers' channel caches compare it."""

    stamp = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.stamp


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(models.Model):
    """One message to one channel. Its id is the `delivery_id` the receiver sees, the
    same on every retry. Written in the transaction of the alert change it reports."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, null=True, blank=True)
    type = models.CharField(max_length=16)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("-created_at", "-id"), name="delivery_newest"),
            models.Index(fields=("status", "-created_at"), name="delivery_status"),
        )

    def __str__(self) -> str:
        return f"{self.type} to channel {self.channel_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    ok = models.BooleanField()
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
