"""Event: one observation from a sensor, stored as sent."""

import uuid

from django.db import models

from secalerts.detection.schema import SEVERITIES, SEVERITY_RANK

__all__ = ["SEVERITY_RANK", "Event", "EventId", "Severity"]

# The scale of detection.schema as Django choices: Severity.HIGH == "high". (django-stubs
# types only the class statement of choices, not this functional form.)
Severity = models.TextChoices(  # type: ignore[call-overload]
    "Severity", [(level.upper(), level) for level in SEVERITIES]
)


class Event(models.Model):
    """The fields of detection.schema.EVENT_SCHEMA, in its order (test_schema_contract)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    timestamp = models.DateTimeField(help_text="When it happened (event time).")
    received_at = models.DateTimeField(help_text="When the backend stored it.")
    event_type = models.CharField(max_length=100)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    source = models.CharField(max_length=255)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    destination_ip = models.GenericIPAddressField(null=True, blank=True)
    destination_port = models.PositiveIntegerField(null=True, blank=True)
    username = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 - null means absent
    message = models.TextField(null=True, blank=True)  # noqa: DJ001 - null means absent
    data = models.JSONField(default=dict, blank=True)
    received_by = models.JSONField(
        null=True,
        blank=True,
        help_text='Who sent it: {"kind": "user" | "api_key" | "syslog", "name": ...}.',
    )

    class Meta:
        ordering = ("-timestamp", "-id")
        indexes = (
            models.Index(fields=("-timestamp", "-id"), name="event_newest"),
            models.Index(fields=("event_type", "-timestamp"), name="event_type_time"),
            models.Index(fields=("source", "-timestamp"), name="event_source_time"),
            # Only events that have the value: half of the OpenSSH replay has no username
            # and a fifth no source IP, and a filter on a value never looks for NULL.
            models.Index(
                fields=("source_ip", "-timestamp"),
                name="event_source_ip_time",
                condition=models.Q(source_ip__isnull=False),
            ),
            models.Index(
                fields=("username", "-timestamp"),
                name="event_username_time",
                condition=models.Q(username__isnull=False),
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(destination_port__lte=65535), name="event_port_range"
            ),
        )

    def __str__(self) -> str:
        return f"{self.event_type} from {self.source} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class EventId(models.Model):
    """Every stored event's id, unique, with its time: PostgreSQL's events_event is
    partitioned by time (events.partitions), where a unique key must hold the time too.
    Ingestion claims ids here first; pruning deletes them with their events. Unused
    (empty) on SQLite, where events_event's own primary key is the id."""

    id = models.UUIDField(primary_key=True)
    timestamp = models.DateTimeField()

    class Meta:
        db_table = "events_event_id"

    def __str__(self) -> str:
        return str(self.id)
