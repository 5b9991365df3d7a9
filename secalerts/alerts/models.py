"""Alert, its linked events, and its append-only history."""

from django.conf import settings
from django.db import models

from secalerts.events.models import SEVERITY_RANK, Event, Severity
from secalerts.rules.models import Rule


class AlertStatus(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"


OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertQuerySet(models.QuerySet["Alert"]):
    def open(self) -> "AlertQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def for_listing(self) -> "AlertQuerySet":
        return self.select_related("rule", "assigned_to")


class Alert(models.Model):
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    # Ordering by severity needs a number; kept in step with `severity` by the services.
    severity_rank = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, blank=True)
    group = models.JSONField(default=dict, blank=True)
    group_key = models.CharField(max_length=64, help_text="Hash of rule id and group values.")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    events = models.ManyToManyField(Event, through="AlertEvent", related_name="alerts")

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("-created_at", "-id"), name="alert_newest"),
            models.Index(fields=("status", "-created_at", "-id"), name="alert_status"),
            models.Index(fields=("severity", "-created_at", "-id"), name="alert_severity"),
            models.Index(fields=("rule", "-created_at", "-id"), name="alert_rule"),
            models.Index(fields=("assigned_to", "-created_at", "-id"), name="alert_assignee"),
            models.Index(fields=("source_ip", "-created_at", "-id"), name="alert_source_ip"),
            models.Index(fields=("-last_seen", "-id"), name="alert_last_seen"),
            models.Index(fields=("-severity_rank", "-id"), name="alert_severity_rank"),
            models.Index(fields=("group_key", "status"), name="alert_dedup"),
        )

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def set_severity(self, severity: str) -> None:
        self.severity = severity
        self.severity_rank = SEVERITY_RANK[severity]


class AlertEvent(models.Model):
    """Which events an alert holds: ingestion writes about one link per event (1,158 for a
    1000-event batch of the OpenSSH replay).

    No foreign key constraints in the database: PostgreSQL checked both keys of every
    link at commit, a fifth of a batch's database CPU. Only ingestion writes links,
    to events and alerts of its own transaction or to earlier ones, and nothing deletes
    events or alerts (the API and the admin cannot); deleting one through the ORM
    still removes its links (on_delete is Django's).
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, db_constraint=False)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("alert", "event"), name="alert_event_once"),)

    def __str__(self) -> str:
        return f"alert {self.alert_id} <- event {self.event_id}"


class AlertHistory(models.Model):
    """Append-only: written by the services, never edited or deleted through API or admin."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    field = models.CharField(max_length=32)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")
        verbose_name_plural = "alert history"

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} -> {self.new_value}"


class AlertChange(models.Model):
    """The stream's change log: one row per pushed change, numbered in commit order
    (alerts.changes). A client resuming with `?since=` is replayed the rows after it."""

    seq = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=16)  # the push's type: alert.created / alert.updated
    # Not a foreign key: the log is written at the end of the changing transaction and
    # read by seq alone; a constraint would only cost that transaction a check.
    alert_id = models.BigIntegerField()
    # No index: each one costs every changing transaction a page write, and the prune job
    # reads the whole log (about REPLAY_CHANGES rows) once in a while.
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("seq",)

    def __str__(self) -> str:
        return f"{self.seq}: {self.kind} {self.alert_id}"


class AlertChangeCounter(models.Model):
    """One row (id 1): the last seq given out. Each transaction that changes alerts
    bumps it at its end and holds its row lock until commit (alerts.changes)."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last_seq)
