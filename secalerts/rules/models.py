"""Rule, the rule-set version stamp, and threshold window state."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from secalerts import detection

SEVERITY_CHOICES = [(level, level) for level in detection.SEVERITIES] + [("inherit", "inherit")]


class Rule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=8, choices=SEVERITY_CHOICES, default="medium")
    condition = models.JSONField()
    group_by = models.JSONField(default=list, blank=True)
    threshold = models.JSONField(null=True, blank=True)
    dedup_window_seconds = models.PositiveIntegerField(default=3600)
    # Sigma metadata of an imported rule ({id, title, status, level, tags, logsource,
    # references, author}); null for rules written in JSON. Re-imports match on its id.
    sigma = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def compile(self) -> detection.CompiledRule:
        """Raises detection.RuleSyntaxError naming the path of the bad node."""
        return compile_definition(
            rule_id=self.pk,
            condition=self.condition,
            group_by=self.group_by,
            threshold=self.threshold,
        )

    def clean(self) -> None:
        try:
            self.compile()
        except detection.RuleSyntaxError as error:
            field = error.path.split(".")[0].split("[")[0]
            field = field if field in {"condition", "group_by", "threshold"} else "condition"
            raise ValidationError({field: [str(error)]}) from error


def compile_definition(
    *, rule_id: object, condition: Any, group_by: Any, threshold: Any
) -> detection.CompiledRule:
    if not isinstance(group_by, list | tuple):
        raise detection.RuleSyntaxError("group_by", "must be a list of field names")
    return detection.compile_rule(
        condition,
        rule_id=rule_id,
        group_by=group_by,
        threshold=detection.parse_threshold(threshold),
    )


class RuleSetVersion(models.Model):
    """One row whose stamp changes with every rule change; workers recompile when it moves.

    A random stamp rather than a counter: a rolled-back change can never make a counter
    value mean two different rule sets.
    """

    stamp = models.CharField(max_length=32, default="initial")

    def __str__(self) -> str:
        return self.stamp


class ThresholdHitPack(models.Model):
    """The hits one ingest counted for one (rule, group), kept while they can complete a window.

    One row per group and transaction, not per counted event: a batch of 1000 events
    counted by ten rules writes a row per group it touched (about 190 for the OpenSSH
    replay) rather than 1,500, and a window's look-up reads as few rows.
    """

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=64, help_text="Hash of rule id and group values.")
    first_timestamp = models.DateTimeField(help_text="Event time of the pack's earliest hit.")
    last_timestamp = models.DateTimeField(help_text="Event time of the pack's latest hit.")
    # JSON [[event time in epoch microseconds, event id hex, distinct value or null], ...]
    # in event-time order (window_state finds a look-up range's hits by bisection).
    hits = models.TextField()
    created_at = models.DateTimeField()
    # The alert every hit of the pack was linked to by the ingest that stored it (null:
    # none, or several): a later window holding these hits and joining that alert need
    # not link them again. A sustained attack's window holds thousands of them.
    alert_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        # Only the indexes the hot path and pruning read; a rule's packs are deleted
        # once, with the rule, so no index on it.
        indexes = (
            models.Index(fields=("key", "last_timestamp"), name="hitpack_key_time"),
            models.Index(fields=("created_at",), name="hitpack_created"),
        )

    def __str__(self) -> str:
        return f"rule {self.rule_id}: hits {self.first_timestamp} .. {self.last_timestamp}"
