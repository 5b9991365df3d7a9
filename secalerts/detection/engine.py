"""Rules over a batch of event dicts: select matches and threshold hits, then window them.

Two phases, so the caller can fetch prior threshold state in one query per batch:
`select()` runs every rule once over every event; `threshold_matches()` takes the
prior hits of the groups `select()` touched and reports the windows now complete.
"""

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from secalerts.detection.conditions import Columns, Predicate, Selector, compile_condition
from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import MISSING, Getter, compile_field
from secalerts.detection.literals import LiteralIndex, Requirement, requirement
from secalerts.detection.schema import DEFAULT_SEVERITY, SEVERITY_RANK
from secalerts.detection.thresholds import Hit, Threshold, find_clusters

MAX_GROUP_BY = 10

GroupKey = tuple[Any, ...]
GroupRef = tuple[Any, GroupKey]  # (rule id, group key)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule_id: Any
    group_by: tuple[str, ...]
    threshold: Threshold | None
    predicate: Predicate = field(repr=False)
    group_getters: tuple[Getter, ...] = field(repr=False)
    distinct_getter: Getter | None = field(repr=False)
    # For the events `select` hands the rule through the event-type index: the condition
    # less its event-type leaf (the whole condition when the rule is not indexed), in
    # its batch form (conditions.Condition.select); None when nothing is left.
    typed_selector: Selector | None = field(repr=False)
    # Event types the condition requires (a top-level eq/in on event_type), to skip the rest.
    event_types: frozenset[str] | None = None
    # Literals one of which the typed selector needs (literals.requirement), to skip the
    # events holding none; None when the rule names none and sees every event of its types.
    requirement: Requirement | None = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self.predicate(event)


@dataclass(frozen=True, slots=True)
class Match:
    rule_id: Any
    group: GroupKey
    event_indexes: tuple[int, ...]
    first_seen: datetime
    last_seen: datetime
    prior_refs: tuple[Any, ...] = ()


@dataclass(slots=True)
class Selection:
    """What `select` found: matches of plain rules, and hits of threshold rules by group."""

    matches: list[Match]
    new_hits: dict[GroupRef, list[tuple[int, Hit]]]
    windows: dict[Any, int]  # threshold rule id -> window seconds

    def only(self, kept: Sequence[int]) -> "Selection":
        """The selection of events[kept] alone (renumbered in that order): the matches
        and hits `select` over them finds, as rules look at one event at a time (their
        order may differ). Ingestion selects before it knows which events are stored
        already, and keeps this for the new ones instead of selecting again (with SQLite
        locked the whole time)."""
        new_position = {old: new for new, old in enumerate(kept)}
        matches = [
            replace(match, event_indexes=(new_position[match.event_indexes[0]],))
            for match in self.matches  # a plain rule's match holds one event
            if match.event_indexes[0] in new_position
        ]
        new_hits = {}
        for ref, hits in self.new_hits.items():
            left = [(new_position[i], hit) for i, hit in hits if i in new_position]
            if left:
                new_hits[ref] = left
        return Selection(matches=matches, new_hits=new_hits, windows=self.windows)

    def lookup_ranges(self) -> dict[GroupRef, tuple[datetime, datetime]]:
        """For each touched group, the only time range where prior hits can matter."""
        ranges = {}
        for ref, hits in self.new_hits.items():
            window = timedelta(seconds=self.windows[ref[0]])
            stamps = [hit.timestamp for _, hit in hits]
            ranges[ref] = (min(stamps) - window, max(stamps) + window)
        return ranges


def compile_rule(
    condition: object,
    *,
    rule_id: Any = None,
    group_by: Sequence[str] = (),
    threshold: Threshold | None = None,
    path: str = "condition",
) -> CompiledRule:
    """Raises RuleSyntaxError naming the path of the bad node."""
    compiled = compile_condition(condition, path)
    event_types, rest = _split_event_type(condition)
    typed_selector = (
        compiled.select
        if event_types is None
        else None
        if rest is None
        else compile_condition(rest, path).select  # a part of a condition that compiled
    )
    if isinstance(group_by, str) or not isinstance(group_by, Sequence):
        raise RuleSyntaxError("group_by", "must be a list of field names")
    if len(group_by) > MAX_GROUP_BY:
        raise RuleSyntaxError("group_by", f"at most {MAX_GROUP_BY} fields")
    if len(set(map(str, group_by))) != len(group_by):
        raise RuleSyntaxError("group_by", "lists a field twice")
    getters = tuple(compile_field(name, f"group_by[{i}]") for i, name in enumerate(group_by))
    distinct = (
        compile_field(threshold.distinct_field, "threshold.distinct_field")
        if threshold is not None and threshold.distinct_field is not None
        else None
    )
    return CompiledRule(
        rule_id=rule_id,
        group_by=tuple(group_by),
        threshold=threshold,
        predicate=compiled.matches,
        group_getters=getters,
        distinct_getter=distinct,
        event_types=event_types,
        typed_selector=typed_selector,
        requirement=requirement(condition if event_types is None else rest),
    )


def _split_event_type(condition: object) -> tuple[frozenset[str] | None, object]:
    """(event types a top-level event_type eq/in requires, the condition without that
    leaf), or (None, condition). An event the index hands a rule has one of those types,
    so the leaf would only say yes again. A list with a non-string could match events
    whose event_type is not a string, which the index leaves out: not split."""
    if not isinstance(condition, dict):
        return None, condition
    leaves = condition.get("all", [condition])
    if not isinstance(leaves, list):
        return None, condition
    for position, leaf in enumerate(leaves):
        if (
            not isinstance(leaf, dict)
            or leaf.get("field") != "event_type"
            or leaf.get("ignore_case", False)
        ):
            continue
        value = leaf.get("value")
        if leaf.get("op") == "eq" and isinstance(value, str):
            types = frozenset([value])
        elif (
            leaf.get("op") == "in"
            and isinstance(value, list)
            and all(isinstance(v, str) for v in value)
        ):
            types = frozenset(value)
        else:
            continue
        rest = leaves[:position] + leaves[position + 1 :]
        return types, {"all": rest} if rest else None
    return None, condition


def normalize(value: Any) -> Any:
    """A hashable, JSON-safe stand-in for a field value: group values end up in alerts
    and distinct values in stored window state (JSON text for objects and lists, ISO
    text for times, text for ids)."""
    if value is MISSING:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)  # e.g. an event's UUID id


def group_of(rule: CompiledRule, event: Mapping[str, Any]) -> GroupKey:
    return tuple(normalize(get(event)) for get in rule.group_getters)


def group_dict(rule: CompiledRule, key: GroupKey) -> dict[str, Any]:
    return dict(zip(rule.group_by, key, strict=True))


# Below this many rules naming literals, an event type's rules are all run over all its
# events: the index's own pass over the events would cost more than it saves (see
# docs/performance.md, "Rule index").
MIN_INDEXED_RULES = 16


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """The rules of one event type, or of none."""

    always: tuple[CompiledRule, ...]  # run over every event of the type
    indexed: tuple[CompiledRule, ...]  # run over the events holding one of their literals
    literals: LiteralIndex | None  # slots are positions in `indexed`


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules by the event types they require, then by the literals they require, built
    once per rule set: a batch then runs each rule only over the events it could match."""

    by_type: Mapping[str, RuleGroup]
    untyped: RuleGroup
    rank: Mapping[int, int]  # id(rule) -> its position in the rule set: the matches' order


@dataclass(slots=True)
class SelectStats:
    """Filled by `select` when given one: how many rules each event was run through."""

    candidates: list[int] = field(default_factory=list)


def index_rules(
    rules: Sequence[CompiledRule], *, literals: bool = True, min_indexed: int = MIN_INDEXED_RULES
) -> RuleIndex:
    """`literals=False` indexes by event type alone (each rule then sees every event of
    its types): the same matches, for benchmarks and tests to compare."""
    by_type: dict[str, list[CompiledRule]] = defaultdict(list)
    untyped = []
    for rule in rules:
        if rule.event_types is None:
            untyped.append(rule)
        for event_type in sorted(rule.event_types or ()):
            by_type[event_type].append(rule)
    minimum = min_indexed if literals else len(rules) + 1
    return RuleIndex(
        by_type={t: _group(rs, minimum) for t, rs in by_type.items()},
        untyped=_group(untyped, minimum),
        rank={id(rule): position for position, rule in enumerate(rules)},
    )


def _group(rules: Sequence[CompiledRule], min_indexed: int) -> RuleGroup:
    indexed = tuple(rule for rule in rules if rule.requirement is not None)
    if not indexed or len(indexed) < min_indexed:
        return RuleGroup(always=tuple(rules), indexed=(), literals=None)
    requirements = [
        (slot, rule.requirement) for slot, rule in enumerate(indexed) if rule.requirement
    ]
    return RuleGroup(
        always=tuple(rule for rule in rules if rule.requirement is None),
        indexed=indexed,
        literals=LiteralIndex(requirements),
    )


def select(
    events: Sequence[Mapping[str, Any]],
    rules: Sequence[CompiledRule] | RuleIndex,
    stats: SelectStats | None = None,
) -> Selection:
    index = rules if isinstance(rules, RuleIndex) else index_rules(rules)
    by_type: dict[str, list[int]] = defaultdict(list)
    for position, event in enumerate(events):
        event_type = event.get("event_type")
        if isinstance(event_type, str):  # a rule's event_type eq/in only matches strings
            by_type[event_type].append(position)
    columns = Columns(events)
    everyone = list(range(len(events)))  # never changed by a selector: shared
    rule_groups = [(index.untyped, everyone)]
    for event_type, positions in by_type.items():
        typed = index.by_type.get(event_type)
        if typed is not None:
            rule_groups.append((typed, positions))
    counts = [0] * len(events) if stats is not None else None
    work: list[tuple[CompiledRule, list[int]]] = []
    for rules_of, positions in rule_groups:
        work += [(rule, positions) for rule in rules_of.always]
        found: Sequence[int] = ()
        if rules_of.literals is not None:
            by_slot, found = rules_of.literals.find(columns, positions)
            work += [(rules_of.indexed[slot], by_slot[slot]) for slot in sorted(by_slot)]
        if counts is not None:
            for position, indexed in zip(positions, found or [0] * len(positions), strict=True):
                counts[position] += len(rules_of.always) + indexed
    if stats is not None and counts is not None:
        stats.candidates = counts

    matched: dict[int, tuple[CompiledRule, list[int]]] = {}
    for rule, candidates in work:
        selector = rule.typed_selector
        hits = candidates if selector is None else selector(columns, candidates)
        if hits:
            entry = matched.setdefault(id(rule), (rule, []))
            entry[1].extend(hits)

    matches: list[Match] = []
    new_hits: dict[GroupRef, list[tuple[int, Hit]]] = defaultdict(list)
    windows: dict[Any, int] = {}
    # Rules often group by the same fields (source_ip): an event's key is made once.
    keys: dict[tuple[str, ...], dict[int, GroupKey]] = defaultdict(dict)
    found_rules = list(matched.values())
    if len(found_rules) > 1:
        found_rules.sort(key=lambda entry: index.rank[id(entry[0])])
    for rule, positions in found_rules:
        positions.sort()  # a rule requiring several types was run once per type
        known = keys[rule.group_by]
        groups = [
            known[i] if i in known else known.setdefault(i, group_of(rule, events[i]))
            for i in positions
        ]
        if rule.threshold is None:
            for i, group in zip(positions, groups, strict=True):
                stamp = events[i]["timestamp"]
                matches.append(Match(rule.rule_id, group, (i,), stamp, stamp))
            continue
        windows[rule.rule_id] = rule.threshold.window_seconds
        for i, group in zip(positions, groups, strict=True):
            event = events[i]
            if None in group:
                continue  # like Elastic threshold rules: events missing a group value don't count
            value = None
            if rule.distinct_getter is not None:
                value = normalize(rule.distinct_getter(event))
                if value is None:
                    continue
            hit = Hit(timestamp=event["timestamp"], ref=event.get("id", i), value=value)
            new_hits[(rule.rule_id, group)].append((i, hit))
    return Selection(matches=matches, new_hits=dict(new_hits), windows=windows)


def threshold_matches(
    selection: Selection,
    rules: Sequence[CompiledRule],
    prior: Mapping[GroupRef, Sequence[Hit]],
) -> list[Match]:
    thresholds = {rule.rule_id: rule.threshold for rule in rules if rule.threshold is not None}
    found = []
    for (rule_id, group), indexed in selection.new_hits.items():
        hits = [hit for _, hit in indexed]
        for cluster in find_clusters(thresholds[rule_id], hits, prior.get((rule_id, group), ())):
            found.append(
                Match(
                    rule_id=rule_id,
                    group=group,
                    event_indexes=tuple(indexed[p][0] for p in cluster.new_positions),
                    first_seen=cluster.first_seen,
                    last_seen=cluster.last_seen,
                    prior_refs=cluster.prior_refs,
                )
            )
    return found


def evaluate(
    events: Sequence[Mapping[str, Any]],
    rules: Sequence[CompiledRule],
    prior: Mapping[GroupRef, Sequence[Hit]] | None = None,
) -> list[Match]:
    """Both phases at once, for callers that hold prior hits already (or have none)."""
    selection = select(events, rules)
    return selection.matches + threshold_matches(selection, rules, prior or {})


def max_severity(values: Iterable[str]) -> str:
    return max(values, key=lambda name: SEVERITY_RANK.get(name, -1), default=DEFAULT_SEVERITY)
