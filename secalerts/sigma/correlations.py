"""Sigma correlation rules (pySigma's parsed SigmaCorrelationRule) -> our rule JSON.

The form is docs/rules.md's "Correlations"; what cannot be evaluated faithfully raises
UnsupportedCorrelation with the reason, so the importer skips the rule, never importing
it half-right.
"""

from collections.abc import Callable, Mapping
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaRuleReference,
)

from secalerts.detection import RuleSyntaxError
from secalerts.detection.correlations import MAX_RULES, parse_correlation
from secalerts.detection.thresholds import MAX_WINDOW_SECONDS

KINDS = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
}
LOWER_BOUNDS = {
    SigmaCorrelationConditionOperator.GTE: "gte",
    SigmaCorrelationConditionOperator.GT: "gt",
}
SEVERITY_OF_LEVEL = {"informational": "info"}  # the other levels are our severities


class UnsupportedCorrelation(ValueError):
    """A correlation we cannot evaluate as Sigma means it; the message is the reason."""


def data_field(name: str) -> str:
    """Sigma's field names (User, ComputerName) as parsed events hold them: under data."""
    return f"data.{name}"


def correlation_rule_from_sigma(
    rule: SigmaCorrelationRule,
    referenced: Mapping[str, int],
    *,
    field_name: Callable[[str], str] = data_field,
) -> dict[str, Any]:
    """The rule fields (name, description, severity, condition, group_by, correlation)
    of a Sigma correlation. `referenced`: each entry of the correlation's `rules` (a
    Sigma rule's id or name, as written) -> the id of our rule imported from it.
    `field_name` maps a Sigma field name to ours (group-by, value_count field, aliases).

    Sigma's `generate: false` (the default) is the importer's to apply: the rules it
    references (`silenced_references`) are saved with `generate: false`.
    Raises UnsupportedCorrelation.
    """
    kind = KINDS.get(rule.type)
    if kind is None:
        raise UnsupportedCorrelation(f"correlation type {rule.type.name.lower()} is not supported")
    if not isinstance(rule.condition, SigmaCorrelationCondition):
        raise UnsupportedCorrelation("extended (boolean) correlation conditions are not supported")
    references = rule.rules or []
    if not 1 <= len(references) <= MAX_RULES:
        raise UnsupportedCorrelation(f"a correlation references 1 to {MAX_RULES} rules")
    ids = [_rule_id(reference, referenced) for reference in references]
    if not rule.group_by:
        raise UnsupportedCorrelation(
            "a correlation without group-by is not supported: its alerts could not be deduplicated"
        )
    seconds = rule.timespan.seconds
    if not 0 <= seconds <= MAX_WINDOW_SECONDS:
        raise UnsupportedCorrelation(f"timespan over {MAX_WINDOW_SECONDS} seconds")

    aliases = {
        alias.alias: {
            str(_rule_id(reference, referenced)): field_name(name)
            for reference, name in alias.mapping.items()
        }
        for alias in rule.aliases
    }
    correlation: dict[str, Any] = {
        "type": kind,
        "rules": ids,
        "timespan_seconds": seconds,
        "condition": _condition(rule.condition),
    }
    if kind == "value_count":
        fieldref = rule.condition.fieldref
        if not isinstance(fieldref, str):
            raise UnsupportedCorrelation("value_count over several fields is not supported")
        correlation["field"] = field_name(fieldref)
    if aliases:
        correlation["aliases"] = aliases
    level = rule.level.name.lower() if rule.level is not None else "medium"
    fields = {
        "name": rule.title[:200],
        "description": rule.description or "",
        "severity": SEVERITY_OF_LEVEL.get(level, level),
        "condition": None,
        "group_by": [name if name in aliases else field_name(name) for name in rule.group_by],
        "correlation": correlation,
    }
    try:  # what saving checks without the database, so a bad translation shows here
        spec = parse_correlation(correlation)
    except RuleSyntaxError as error:
        raise UnsupportedCorrelation(str(error)) from error
    if spec.kind == "temporal_ordered" and spec.minimum != len(ids):
        raise UnsupportedCorrelation("temporal_ordered needs every rule")
    return fields


def silenced_references(rule: SigmaCorrelationRule) -> list[str]:
    """The references whose rules raise no alerts of their own (`generate: false`)."""
    return [] if rule.generate else [reference.reference for reference in rule.rules or []]


def _rule_id(reference: SigmaRuleReference, referenced: Mapping[str, int]) -> int:
    if reference.reference in referenced:
        return referenced[reference.reference]
    resolved = getattr(reference, "rule", None)  # set once the collection resolved it
    for key in (getattr(resolved, "name", None), str(getattr(resolved, "id", None))):
        if isinstance(key, str) and key in referenced:
            return referenced[key]
    raise UnsupportedCorrelation(f"references {reference.reference}, which was not imported")


def _condition(condition: SigmaCorrelationCondition) -> dict[str, int]:
    op = LOWER_BOUNDS.get(condition.op)
    if op is None:
        raise UnsupportedCorrelation(
            f"condition {condition.op.name.lower()}: a count that must stay low or exact is "
            "only known once the window has closed, which streaming detection never knows"
        )
    if not isinstance(condition.count, int):
        raise UnsupportedCorrelation("a count condition needs a whole number")
    return {op: condition.count}
