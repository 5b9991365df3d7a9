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


class ThresholdHit(models.Model):
    """One event counted by a threshold rule, kept while it can still complete a window."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=64, help_text="Hash of rule id and group values.")
    timestamp = models.DateTimeField()
    event_id = models.UUIDField()
    # JSON of the distinct_field value (null when counting events).
    value = models.TextField(null=True, blank=True)  # noqa: DJ001 - null: counting events
    created_at = models.DateTimeField()

    class Meta:
        # Written for every counted event, so only the indexes the hot path and pruning
        # read: no unique constraint (only new events reach here) and no index on the
        # rule (a rule's hits are deleted once, with the rule).
        indexes = (
            models.Index(fields=("key", "timestamp"), name="hit_key_time"),
            models.Index(fields=("created_at",), name="hit_created"),
        )

    def __str__(self) -> str:
        return f"rule {self.rule_id} hit by event {self.event_id} at {self.timestamp}"
