"""Rule, the rule-set version stamp, and threshold and correlation window state."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from secalerts import detection
from secalerts.detection import correlations

SEVERITY_CHOICES = [(level, level) for level in detection.SEVERITIES] + [("inherit", "inherit")]


class Rule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=8, choices=SEVERITY_CHOICES, default="medium")
    # Null for a correlation rule, which matches the results of other rules instead.
    condition = models.JSONField(null=True, blank=True)
    group_by = models.JSONField(default=list, blank=True)
    threshold = models.JSONField(null=True, blank=True)
    correlation = models.JSONField(null=True, blank=True)
    # Sigma's `generate: false`: its matches only feed the correlations referencing it.
    generate = models.BooleanField(default=True, help_text="Raises alerts of its own.")
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
        """What the event engine runs (a correlation rule matches no event itself).
        Raises detection.RuleSyntaxError naming the path of the bad node."""
        if self.correlation is not None:
            return correlations.never_matching_rule(self.pk, self.group_by)
        return compile_definition(
            rule_id=self.pk,
            condition=self.condition,
            group_by=self.group_by,
            threshold=self.threshold,
        )

    def clean(self) -> None:
        try:
            check_definition(
                rule_id=self.pk,
                condition=self.condition,
                group_by=self.group_by,
                threshold=self.threshold,
                correlation=self.correlation,
            )
        except detection.RuleSyntaxError as error:
            raise ValidationError({field_of(error): [str(error)]}) from error


DEFINITION_FIELDS = ("condition", "group_by", "threshold", "correlation")


def field_of(error: detection.RuleSyntaxError) -> str:
    """The rule field a bad node's path starts in."""
    field = error.path.split(".")[0].split("[")[0]
    return field if field in DEFINITION_FIELDS else "condition"


def check_definition(
    *, rule_id: int | None, condition: Any, group_by: Any, threshold: Any, correlation: Any
) -> None:
    """A plain, threshold or correlation rule's definition, checked as saving it would
    (a correlation's references against the stored rules). Raises RuleSyntaxError."""
    if correlation is None:
        if condition is None:
            raise detection.RuleSyntaxError("condition", "This field is required.")
        compile_definition(
            rule_id=rule_id, condition=condition, group_by=group_by, threshold=threshold
        )
        return
    if condition is not None:
        raise detection.RuleSyntaxError(
            "condition",
            "a correlation rule has no condition of its own: it matches the results of the "
            "rules it references (send null)",
        )
    if threshold is not None:
        raise detection.RuleSyntaxError(
            "threshold", "a correlation rule has no threshold: its correlation.condition counts"
        )
    if not isinstance(group_by, list | tuple):
        raise detection.RuleSyntaxError("group_by", "must be a list of field names")
    spec = correlations.parse_correlation(correlation)
    correlations.compile_correlation(
        spec, rule_id=rule_id, group_by=group_by, referenced=_referenced(rule_id, spec)
    )


def _referenced(
    rule_id: int | None, spec: correlations.CorrelationSpec
) -> dict[int, tuple[str, ...] | None]:
    """Each referenced rule: None for a plain rule, a correlation's group_by."""
    stored = {rule.pk: rule for rule in Rule.objects.filter(pk__in=spec.rules)}
    referenced: dict[int, tuple[str, ...] | None] = {}
    for position, ref in enumerate(spec.rules):
        path = f"correlation.rules[{position}]"
        other = stored.get(ref)
        if ref == rule_id:
            raise detection.RuleSyntaxError(path, "is this rule itself")
        if other is None:
            raise detection.RuleSyntaxError(path, f"no rule with id {ref}")
        if other.threshold is not None:
            raise detection.RuleSyntaxError(
                path,
                f"rule {ref} has a threshold: reference plain rules and correlations "
                "(an event_count correlation counts like a threshold)",
            )
        if other.correlation is None:
            referenced[ref] = None
            continue
        if rule_id is not None and _leads_to(other, rule_id):
            raise detection.RuleSyntaxError(path, f"rule {ref} leads back to this rule (a cycle)")
        referenced[ref] = tuple(other.group_by)
    return referenced


def _leads_to(start: "Rule", target: int) -> bool:
    """Whether a correlation references `target`, directly or down its chain."""
    seen: set[int] = set()
    frontier = [start]
    while frontier:
        refs = {
            ref
            for rule in frontier
            for ref in (rule.correlation or {}).get("rules", [])
            if isinstance(ref, int) and ref not in seen
        }
        if target in refs:
            return True
        seen |= refs
        frontier = list(Rule.objects.filter(pk__in=refs, correlation__isnull=False))
    return False


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
    A correlation rule's hits too: events of the rules it references, or occurrences of
    the correlations it references (value: the distinct value, or the rule's position).

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
