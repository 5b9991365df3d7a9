"""The detection engine: rule conditions compiled to predicates, evaluated over event dicts.

Standard library, RE2 (the linear-time regex engine) and pyahocorasick (the literal
index's automaton) only: no Django, no ORM, no I/O, no clock. Public surface:

    rule = compile_rule(condition, rule_id=..., group_by=[...], threshold=parse_threshold(raw))
    rule.matches(event) -> bool
    index = index_rules(rules)                   # once per rule set: by event type and literal
    selection = select(events, index)            # plain-rule matches + threshold hits by group
    prior = <stored hits for selection.lookup_ranges()>
    matches = selection.matches + threshold_matches(selection, rules, prior)

Invalid rules raise RuleSyntaxError(path, message) naming the bad node.
"""

from secalerts.detection.engine import (
    CompiledRule,
    Match,
    RuleGroup,
    RuleIndex,
    Selection,
    SelectStats,
    compile_rule,
    evaluate,
    group_dict,
    group_of,
    index_rules,
    max_severity,
    normalize,
    select,
    threshold_matches,
)
from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import EVENT_FIELDS
from secalerts.detection.schema import SEVERITIES
from secalerts.detection.thresholds import Hit, Threshold, find_clusters, parse_threshold

__all__ = [
    "EVENT_FIELDS",
    "SEVERITIES",
    "CompiledRule",
    "Hit",
    "Match",
    "RuleGroup",
    "RuleIndex",
    "RuleSyntaxError",
    "SelectStats",
    "Selection",
    "Threshold",
    "compile_rule",
    "evaluate",
    "find_clusters",
    "group_dict",
    "group_of",
    "index_rules",
    "max_severity",
    "normalize",
    "parse_threshold",
    "select",
    "threshold_matches",
]
