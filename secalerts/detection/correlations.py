"""Correlation rules on event time: Sigma's event_count, value_count, temporal and
temporal_ordered, over the matches of other rules (and of other correlations: chains).

Pure, like the rest of detection: prior hits in, the matches now complete and the hits
to store out. The caller (rules.window_state) locks, loads and stores.

A correlation *occurs* at one of its hits when the window of `timespan_seconds` ending
at that hit's event time (both ends inclusive) satisfies it:

- event_count: at least `minimum` hits (events of the referenced rules);
- value_count: at least `minimum` distinct values of `field` among them;
- temporal: hits of at least `minimum` of the referenced rules (default: all);
- temporal_ordered: the hit is of the last rule, and hits of the rules before it lie in
  the window in the given order (equal event times count as in order).

Only lower bounds: a count that must stay low (lt, lte, eq, neq) is only known once a
window has closed, which a stream never knows. Occurrences only grow as hits arrive,
so a batch reports those it added (over the stored hits alone, they did not occur):
the union over batches is the same for any arrival order or split into batches.
A correlation referencing a correlation takes that one's occurrences as its hits.
"""

import dataclasses
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from secalerts.detection.engine import CompiledRule, GroupKey, GroupRef, Match, normalize
from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import Getter, compile_field
from secalerts.detection.thresholds import MAX_COUNT, MAX_WINDOW_SECONDS, Hit

KINDS = ("event_count", "value_count", "temporal", "temporal_ordered")
TEMPORAL_KINDS = frozenset({"temporal", "temporal_ordered"})
MAX_RULES = 10
LOWER_BOUNDS = ("gte", "gt")
UPPER_BOUNDS = ("lt", "lte", "eq", "neq")


@dataclass(frozen=True, slots=True)
class CorrelationSpec:
    """A rule's `correlation` object, checked for shape (references are the caller's)."""

    kind: str
    rules: tuple[int, ...]  # ids of the referenced rules, in order
    timespan_seconds: int
    minimum: int  # events, distinct values or rules the window must hold
    field: str | None = None  # value_count
    # alias -> referenced rule id -> the field it stands for in that rule's events
    aliases: Mapping[str, Mapping[int, str]] = dataclasses.field(default_factory=dict)


def parse_correlation(raw: object, *, path: str = "correlation") -> CorrelationSpec:
    if not isinstance(raw, dict):
        raise RuleSyntaxError(path, 'must be {"type": ..., "rules": [...], "timespan_seconds": N}')
    unknown = set(raw) - {"type", "rules", "timespan_seconds", "condition", "field", "aliases"}
    if unknown:
        raise RuleSyntaxError(f"{path}.{sorted(unknown)[0]}", "unknown key")
    kind = raw.get("type")
    if kind not in KINDS:
        raise RuleSyntaxError(f"{path}.type", f"must be one of {', '.join(KINDS)}")
    rules = raw.get("rules")
    fewest = 2 if kind in TEMPORAL_KINDS else 1
    if not isinstance(rules, list) or not fewest <= len(rules) <= MAX_RULES:
        raise RuleSyntaxError(
            f"{path}.rules", f"must be a list of {fewest} to {MAX_RULES} rule ids for {kind}"
        )
    for position, rule_id in enumerate(rules):
        if not isinstance(rule_id, int) or isinstance(rule_id, bool) or rule_id < 1:
            raise RuleSyntaxError(f"{path}.rules[{position}]", "must be a rule id")
        if rule_id in rules[:position]:
            raise RuleSyntaxError(f"{path}.rules[{position}]", "lists a rule twice")
    timespan = raw.get("timespan_seconds")
    if (
        not isinstance(timespan, int)
        or isinstance(timespan, bool)
        or not 0 <= timespan <= MAX_WINDOW_SECONDS
    ):
        raise RuleSyntaxError(
            f"{path}.timespan_seconds", f"must be a whole number from 0 to {MAX_WINDOW_SECONDS}"
        )
    minimum = _parse_condition(raw.get("condition"), kind, len(rules), f"{path}.condition")
    counted = raw.get("field")
    if kind == "value_count":
        compile_field(counted, f"{path}.field")
    elif counted is not None:
        raise RuleSyntaxError(f"{path}.field", "only value_count counts a field")
    aliases = _parse_aliases(raw.get("aliases", {}), rules, f"{path}.aliases")
    return CorrelationSpec(
        kind=kind,
        rules=tuple(rules),
        timespan_seconds=timespan,
        minimum=minimum,
        field=counted,
        aliases=aliases,
    )


def _parse_condition(raw: object, kind: str, rule_count: int, path: str) -> int:
    if raw is None and kind in TEMPORAL_KINDS:
        return rule_count
    if not isinstance(raw, dict) or not raw:
        raise RuleSyntaxError(path, 'must be {"gte": N} or {"gt": N}')
    for key in raw:
        if key in UPPER_BOUNDS:
            raise RuleSyntaxError(
                f"{path}.{key}",
                "a count that must stay low or exact is only known once the window has "
                "closed, which streaming detection never knows: use gte or gt",
            )
        if key not in LOWER_BOUNDS:
            raise RuleSyntaxError(f"{path}.{key}", "unknown key: gte or gt")
    if len(raw) != 1:
        raise RuleSyntaxError(path, "gte or gt, not both")
    ((op, value),) = raw.items()
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleSyntaxError(f"{path}.{op}", "must be a whole number")
    minimum = value if op == "gte" else value + 1
    most = rule_count if kind in TEMPORAL_KINDS else MAX_COUNT
    if not 1 <= minimum <= most:
        raise RuleSyntaxError(f"{path}.{op}", f"must ask for 1 to {most}")
    if kind == "temporal_ordered" and minimum != rule_count:
        raise RuleSyntaxError(f"{path}.{op}", "temporal_ordered needs every rule, in order")
    return minimum


def _parse_aliases(raw: object, rules: list[int], path: str) -> dict[str, dict[int, str]]:
    if not isinstance(raw, dict):
        raise RuleSyntaxError(path, '{"alias": {"<rule id>": "field", ...}, ...}')
    aliases: dict[str, dict[int, str]] = {}
    for alias, mapping in raw.items():
        where = f"{path}.{alias}"
        if not isinstance(mapping, dict) or {str(r) for r in rules} != set(mapping):
            raise RuleSyntaxError(where, "must map every referenced rule id to a field")
        for rule_id, name in mapping.items():
            compile_field(name, f"{where}.{rule_id}")
        aliases[alias] = {int(rule_id): name for rule_id, name in mapping.items()}
    return aliases


@dataclass(frozen=True, slots=True)
class Source:
    """How one referenced rule's results become hits of the correlation."""

    position: int  # in the correlation's `rules`
    # A plain rule: its matched events' group values and counted value.
    group_getters: tuple[Getter, ...] | None = dataclasses.field(default=None, repr=False)
    value_getter: Getter | None = dataclasses.field(default=None, repr=False)
    # A correlation: where this one's group values sit in its group.
    projection: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Correlation:
    rule_id: Any
    spec: CorrelationSpec
    group_by: tuple[str, ...]
    sources: Mapping[Any, Source]  # referenced rule id -> source

    @property
    def timespan(self) -> timedelta:
        return timedelta(seconds=self.spec.timespan_seconds)


def compile_correlation(
    spec: CorrelationSpec,
    *,
    rule_id: Any,
    group_by: Sequence[str],
    referenced: Mapping[int, Sequence[str] | None],
) -> Correlation:
    """`referenced`: rule id -> None for a plain rule, or a correlation's group_by.
    Referenced ids missing from it are left out (a disabled or deleted rule adds no hits).
    Raises RuleSyntaxError naming the path of what cannot be grouped."""
    if not group_by:
        raise RuleSyntaxError("group_by", "a correlation groups by at least one field")
    if len(set(group_by)) != len(group_by):
        raise RuleSyntaxError("group_by", "lists a field twice")
    sources = {}
    for position, ref in enumerate(spec.rules):
        if ref not in referenced:
            continue
        names = [spec.aliases[g][ref] if g in spec.aliases else g for g in group_by]
        upstream = referenced[ref]
        if upstream is None:
            getters = tuple(compile_field(n, f"group_by[{i}]") for i, n in enumerate(names))
            value = (
                compile_field(spec.field, "correlation.field")
                if spec.kind == "value_count"
                else None
            )
            sources[ref] = Source(position, group_getters=getters, value_getter=value)
            continue
        if spec.kind == "value_count":
            raise RuleSyntaxError(
                f"correlation.rules[{position}]", "value_count counts fields of plain rules only"
            )
        for i, name in enumerate(names):
            if name not in upstream:
                raise RuleSyntaxError(
                    f"group_by[{i}]",
                    f"correlation {ref} does not group by {name!r}: a correlation of "
                    "correlations groups by fields (or aliases) they group by",
                )
        sources[ref] = Source(position, projection=tuple(upstream.index(n) for n in names))
    return Correlation(rule_id=rule_id, group_by=tuple(group_by), spec=spec, sources=sources)


def never_matching_rule(rule_id: Any, group_by: Sequence[str]) -> CompiledRule:
    """What a correlation rule is to the event engine: it matches no event itself (no
    event type: the index hands it none), and its group_by names its alerts' fields."""
    return CompiledRule(
        rule_id=rule_id,
        group_by=tuple(group_by),
        threshold=None,
        predicate=lambda event: False,
        group_getters=(),
        distinct_getter=None,
        typed_selector=None,
        event_types=frozenset(),
    )


def in_order(correlations: Sequence[Correlation]) -> list[Correlation]:
    """Referenced correlations before those that reference them; any in a cycle left out."""
    by_id = {c.rule_id: c for c in correlations}
    done: dict[Any, Correlation] = {}
    progress = True
    while progress:
        progress = False
        for c in correlations:
            if c.rule_id in done:
                continue
            upstream = [r for r, s in c.sources.items() if s.projection is not None]
            if all(r in done or r not in by_id for r in upstream):
                done[c.rule_id] = c
                progress = True
    return list(done.values())


class NewHit(NamedTuple):
    position: int | None  # the event's position in the batch; None: an event stored earlier
    hit: Hit
    cause: int  # a batch event whose arrival made this hit (the event itself if in it)


@dataclass(slots=True)
class Outcome:
    matches: list[Match]
    new_hits: dict[GroupRef, list[NewHit]]  # every correlation group's, to store


def correlation_hits(
    correlations: Sequence[Correlation],
    matches: Sequence[Match],
    events: Sequence[Mapping[str, Any]],
) -> dict[GroupRef, list[NewHit]]:
    """The hits plain-rule matches of a batch give the correlations referencing those rules.
    An event matching two referenced rules counts once (event_count, value_count), or
    once for each rule (temporal). Events missing a group or counted value don't count."""
    if not correlations:
        return {}
    positions: dict[Any, list[int]] = defaultdict(list)
    for match in matches:
        positions[match.rule_id].append(match.event_indexes[0])  # plain: one event each
    found: dict[GroupRef, list[NewHit]] = defaultdict(list)
    seen: set[tuple[Any, GroupKey, Any, Any]] = set()
    for c in correlations:
        temporal = c.spec.kind in TEMPORAL_KINDS
        for ref, source in c.sources.items():
            if source.group_getters is None:
                continue
            for i in positions.get(ref, ()):
                event = events[i]
                group = tuple(normalize(get(event)) for get in source.group_getters)
                if None in group:
                    continue
                value: Any = source.position if temporal else None
                if source.value_getter is not None:
                    value = normalize(source.value_getter(event))
                    if value is None:
                        continue
                event_ref = event.get("id", i)
                once = (c.rule_id, group, event_ref, source.position if temporal else None)
                if once in seen:
                    continue
                seen.add(once)
                hit = Hit(timestamp=event["timestamp"], ref=event_ref, value=value)
                found[(c.rule_id, group)].append(NewHit(i, hit, i))
    return dict(found)


def lookup_ranges(
    correlations: Sequence[Correlation], new_hits: Mapping[GroupRef, Sequence[NewHit]]
) -> dict[GroupRef, tuple[datetime, datetime]]:
    """Every correlation group the batch may add hits to, directly or down a chain, with
    the only range of event time where its prior hits can matter: a window holding a
    new hit starts a timespan before it at the earliest and ends a timespan after it at
    the latest, and the occurrences it adds (a chain's hits) lie within the same."""
    bounds: dict[GroupRef, tuple[datetime, datetime]] = {}
    for ref, hits in new_hits.items():
        stamps = [n.hit.timestamp for n in hits]
        bounds[ref] = (min(stamps), max(stamps))
    ranges = {}
    ordered = in_order(correlations)
    consumers = _consumers(ordered)
    for c in ordered:
        for ref in [r for r in bounds if r[0] == c.rule_id]:
            low, high = bounds[ref]
            ranges[ref] = (low - c.timespan, high + c.timespan)
            for downstream, source in consumers[c.rule_id]:
                assert source.projection is not None  # noqa: S101 - consumers have one
                target = (downstream.rule_id, tuple(ref[1][k] for k in source.projection))
                was = bounds.get(target, (low, high + c.timespan))
                bounds[target] = (min(was[0], low), max(was[1], high + c.timespan))
    return ranges


def correlate(
    correlations: Sequence[Correlation],
    new_hits: Mapping[GroupRef, Sequence[NewHit]],
    prior: Mapping[GroupRef, Sequence[Hit]],
) -> Outcome:
    """The matches this batch completes and the hits to store, given the batch's hits
    (`correlation_hits`) and the stored hits of each group in its `lookup_ranges`."""
    pending: dict[GroupRef, list[NewHit]] = defaultdict(list)
    for ref, hits in new_hits.items():
        pending[ref].extend(hits)
    ordered = in_order(correlations)
    consumers = _consumers(ordered)
    matches = []
    for c in ordered:
        for ref in [r for r in pending if r[0] == c.rule_id]:
            found, occurrences = _fire(c, ref[1], pending[ref], prior.get(ref, ()))
            matches.extend(found)
            for downstream, source in consumers[c.rule_id]:
                assert source.projection is not None  # noqa: S101 - consumers have one
                target = (downstream.rule_id, tuple(ref[1][k] for k in source.projection))
                value = source.position if downstream.spec.kind in TEMPORAL_KINDS else None
                pending[target].extend(
                    NewHit(n.position, n.hit._replace(value=value), n.cause) for n in occurrences
                )
    return Outcome(matches=matches, new_hits={r: h for r, h in pending.items() if h})


def _consumers(ordered: Sequence[Correlation]) -> dict[Any, list[tuple[Correlation, Source]]]:
    consumers: dict[Any, list[tuple[Correlation, Source]]] = defaultdict(list)
    for c in ordered:
        for ref, source in c.sources.items():
            if source.projection is not None:
                consumers[ref].append((c, source))
    return consumers


def _fire(
    c: Correlation, group: GroupKey, new: Sequence[NewHit], prior: Sequence[Hit]
) -> tuple[list[Match], list[NewHit]]:
    """One group: (matches of the windows holding occurrences this batch added, those
    occurrences as hits for the correlations referencing this one)."""
    new_keys = {(n.hit.ref, n.hit.value) for n in new}
    entries: list[tuple[Hit, NewHit | None]] = [(n.hit, n) for n in new]
    entries += [(hit, None) for hit in prior if (hit.ref, hit.value) not in new_keys]
    entries.sort(key=lambda entry: entry[0].timestamp)  # every test below is by time
    if not new:
        return [], []
    stamps = [hit.timestamp for hit, _ in entries]
    earliest = min(n.hit.timestamp for n in new)
    latest = max(n.hit.timestamp for n in new) + c.timespan
    now = _occurs(c, [hit for hit, _ in entries], earliest, latest)
    stored_at = [k for k, (_, n) in enumerate(entries) if n is None]
    before = _occurs(c, [entries[k][0] for k in stored_at], earliest, latest)
    occurred_before = {k for k, yes in zip(stored_at, before, strict=True) if yes}
    added = [k for k, yes in enumerate(now) if yes and k not in occurred_before]

    spans: list[tuple[int, int]] = []  # entry ranges of merged windows ending at `added`
    for k in added:
        start = _first_at_or_after(stamps, stamps[k] - c.timespan)
        end = _first_after(stamps, stamps[k])
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    matches, cause_of_span = [], []
    for low, high in spans:
        members = entries[low:high]
        batch = [n for _, n in members if n is not None]
        # Only the window's own events: never the event that completed a chain upstream,
        # which depends on arrival order (so the alert may hold none of this batch).
        indexes = sorted({n.position for n in batch if n.position is not None})
        refs = dict.fromkeys(hit.ref for hit, n in members if n is None or n.position is None)
        matches.append(
            Match(
                rule_id=c.rule_id,
                group=group,
                event_indexes=tuple(indexes),
                first_seen=members[0][0].timestamp,
                last_seen=members[-1][0].timestamp,
                prior_refs=tuple(refs),
            )
        )
        cause_of_span.append((high, min(n.cause for n in batch)))
    occurrences = []
    for k in added:
        hit, n = entries[k]
        cause = next(cause for high, cause in cause_of_span if k < high)
        occurrences.append(NewHit(n.position if n else None, hit, n.cause if n else cause))
    return matches, occurrences


def _occurs(
    c: Correlation, hits: Sequence[Hit], earliest: datetime, latest: datetime
) -> list[bool]:
    """For hits sorted by time: whether the correlation occurs at each, checked only at
    times from `earliest` to `latest` (elsewhere False)."""
    spec = c.spec
    window = c.timespan
    last = len(spec.rules) - 1
    result = [False] * len(hits)
    values: Counter[object] = Counter()
    counts_values = spec.kind != "event_count"
    start = 0
    chain_start: list[datetime | None] = [None] * len(spec.rules)  # temporal_ordered
    first = 0
    while first < len(hits):
        moment = hits[first].timestamp
        stop = first
        while stop < len(hits) and hits[stop].timestamp == moment:
            if counts_values:
                values[hits[stop].value] += 1
            stop += 1
        while hits[start].timestamp < moment - window:
            if counts_values:
                value = hits[start].value
                values[value] -= 1
                if not values[value]:
                    del values[value]
            start += 1
        if spec.kind == "temporal_ordered":
            # chain_start[k]: the latest event time a chain of rules 0..k can start at,
            # with every step at or before now; ties in time count as in order.
            present = {hit.value for hit in hits[first:stop]}
            for k in range(len(spec.rules)):
                if k in present:
                    chain_start[k] = moment if k == 0 else chain_start[k - 1]
        if earliest <= moment <= latest:
            if spec.kind == "event_count":
                holds = stop - start >= spec.minimum
            elif spec.kind == "temporal_ordered":
                began = chain_start[last]
                holds = began is not None and began >= moment - window
            else:
                holds = len(values) >= spec.minimum
            if holds:
                for k in range(first, stop):
                    result[k] = spec.kind != "temporal_ordered" or hits[k].value == last
        first = stop
    return result


def _first_at_or_after(stamps: Sequence[datetime], moment: datetime) -> int:
    return bisect_left(stamps, moment)


def _first_after(stamps: Sequence[datetime], moment: datetime) -> int:
    return bisect_right(stamps, moment)
