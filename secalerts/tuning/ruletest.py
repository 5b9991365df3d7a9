"""Rule test and backtest: a rule over given or stored events, through the same
functions ingestion uses (detection.select, threshold_matches, alerts' plan_alerts), on
an empty state, writing nothing.

Rule test: the given events as one batch (like wazuh-logtest). Backtest: the stored
events of a time range in event-time order, in chunks read by keyset, each counted
against the previous chunks' hits and deduplicated into the alerts of the previous
chunks, as ingestion would have done receiving them in that order.
"""

import bisect
import operator
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from django.conf import settings
from django.db import connection

from secalerts import detection
from secalerts.alerts.services.matches import PendingAlert, plan_alerts
from secalerts.core import bulk_insert
from secalerts.core.errors import InvalidInput
from secalerts.detection.operators import OPERATORS
from secalerts.detection.schema import SENT_FIELDS
from secalerts.events.models import Event
from secalerts.events.validation import validate_items
from secalerts.rules.models import Rule, compile_definition
from secalerts.rules.registry import ActiveRule, RuleSet
from secalerts.sigma.services import InvalidSigma, compile_sigma

TEST_RULE_ID = 0  # the id a tested (unsaved) rule's matches carry
FIRST_MATCHES = 100  # matches a backtest lists
LISTED_ALERTS = 100  # alerts a backtest lists (all are counted)
CHUNK = 5000  # stored events read per query


def rule_from_text(text: str) -> dict[str, Any]:
    """A rule given as text (one Sigma YAML rule) -> our rule JSON, compiled as the
    importer would; what it refuses (or skips, with the reason) is a 400 on `rule`."""
    try:
        compiled = compile_sigma(text)
    except InvalidSigma as error:
        raise InvalidInput("Invalid rule.", detail={"rule": [str(error)]}) from error
    reasons = [f"{s['title']}: {s['reason']}" for s in compiled.skipped]
    if len(compiled.rules) != 1 or reasons:
        found = reasons or [f"{len(compiled.rules)} Sigma rules given: test one at a time."]
        raise InvalidInput("Invalid rule.", detail={"rule": found})
    rule = compiled.rules[0]
    return {key: rule[key] for key in ("name", "description", "severity", "condition")}


def active_rule(definition: Mapping[str, Any], *, rule_id: Any) -> ActiveRule:
    """A validated rule definition (RuleSerializer's fields) ready to run."""
    compiled = compile_definition(
        rule_id=rule_id,
        condition=definition["condition"],
        group_by=definition.get("group_by") or [],
        threshold=definition.get("threshold"),
    )
    return ActiveRule(
        id=rule_id,
        name=definition.get("name") or "Rule test",
        description=definition.get("description", ""),
        severity=definition.get("severity", "medium"),
        dedup_window_seconds=definition.get("dedup_window_seconds", 3600),
        compiled=compiled,
    )


def _ruleset(rule: ActiveRule) -> RuleSet:
    return RuleSet(version="test", rules=(rule,), index=detection.index_rules([rule.compiled]))


# ----------------------------------------------------------------------- rule test


def test_rule(*, rule: ActiveRule, raw_events: list[Any], now: datetime) -> dict[str, Any]:
    """Which of the events match and the alerts they would raise, in order; raises
    InvalidEvents (400, by index and field) for events ingestion would refuse."""
    events = validate_items(raw_events, now=now)
    ruleset = _ruleset(rule)
    selection = detection.select(events, ruleset.index)
    counted = detection.threshold_matches(selection, ruleset.compiled, {})
    matches = [*selection.matches, *counted]
    matched = {m.event_indexes[0] for m in selection.matches}
    matched.update(i for hits in selection.new_hits.values() for i, _ in hits)
    open_alerts: dict[str, list[PendingAlert]] = defaultdict(list)
    plan_alerts(matches, open_alerts, events=events, ruleset=ruleset, now=now)
    position = {event["id"]: i for i, event in enumerate(events)}
    alerts = _alerts(open_alerts)
    return {
        "matched": sorted(matched),
        "alerts": [
            _alert_body(p, events=sorted(position[i] for i in p.new_event_ids)) for p in alerts
        ],
    }


def _alerts(open_alerts: Mapping[str, list[PendingAlert]]) -> list[PendingAlert]:
    """In the order they would have been raised: by their first event's time."""
    found = [p for group in open_alerts.values() for p in group]
    return sorted(found, key=lambda p: (p.alert.first_seen, p.alert.last_seen))


def _alert_body(pending: PendingAlert, **extra: Any) -> dict[str, Any]:
    alert = pending.alert
    return {
        "title": alert.title,
        "severity": alert.severity,
        "group": alert.group,
        "source_ip": alert.source_ip,
        "event_count": len(pending.new_event_ids | pending.prior_event_ids),
        "first_seen": _time(alert.first_seen),
        "last_seen": _time(alert.last_seen),
        **extra,
    }


def _time(moment: datetime) -> str:
    """As the API writes times (DRF's form in UTC): ISO 8601 with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------ backtest


class BacktestLimit(InvalidInput):
    """A backtest past one of its bounds (400, naming the setting)."""


@dataclass(slots=True)
class _Run:
    rule: ActiveRule
    ruleset: RuleSet
    now: datetime
    scanned: int = 0
    matched: int = 0
    first_matches: list[UUID] = field(default_factory=list)  # their ids
    open_alerts: dict[str, list[PendingAlert]] = field(default_factory=lambda: defaultdict(list))
    prior: dict[Any, list[detection.Hit]] = field(default_factory=lambda: defaultdict(list))


def backtest(*, rule: Rule, since: datetime, until: datetime, now: datetime) -> dict[str, Any]:
    """The rule over the stored events with since <= timestamp <= until."""
    max_events = settings.BACKTEST_MAX_EVENTS
    deadline = time.monotonic() + settings.BACKTEST_MAX_SECONDS
    try:
        active = active_rule({name: getattr(rule, name) for name in _RULE_FIELDS}, rule_id=rule.pk)
    except detection.RuleSyntaxError as error:  # stored around validation (a raw SQL edit)
        raise InvalidInput("The rule does not compile.", detail={"rule": [str(error)]}) from error
    run = _Run(rule=active, ruleset=_ruleset(active), now=now)
    columns = _columns_read(active, rule.condition)
    for chunk in _stored_events(active.compiled, columns, since, until, limit=max_events + 1):
        run.scanned += len(chunk)
        if run.scanned > max_events:
            raise BacktestLimit(
                f"The range holds more than BACKTEST_MAX_EVENTS ({max_events}) events the "
                "rule could match: narrow since/until.",
                detail={"since": ["Range too large."], "until": ["Range too large."]},
            )
        _run_chunk(run, chunk)
        if time.monotonic() > deadline:
            raise BacktestLimit(
                f"The backtest ran past BACKTEST_MAX_SECONDS ({settings.BACKTEST_MAX_SECONDS}"
                " s): narrow since/until.",
                detail={"since": ["Range too large."], "until": ["Range too large."]},
            )
    alerts = _alerts(run.open_alerts)
    return {
        "rule": {"id": rule.pk, "name": rule.name},
        "since": _time(since),
        "until": _time(until),
        "events_scanned": run.scanned,
        "events_matched": run.matched,
        "matches": _full_events(run.first_matches),
        "alert_count": len(alerts),
        "alerts": [_alert_body(p) for p in alerts[:LISTED_ALERTS]],
    }


_RULE_FIELDS = ("name", "description", "severity", "condition", "group_by", "threshold",
                "dedup_window_seconds")  # fmt: skip


def _run_chunk(run: _Run, events: list[dict[str, Any]]) -> None:
    compiled = run.ruleset.compiled
    selection = detection.select(events, run.ruleset.index)
    matched = sorted(
        {m.event_indexes[0] for m in selection.matches}
        | {i for hits in selection.new_hits.values() for i, _ in hits}
    )
    run.matched += len(matched)
    run.first_matches += [
        events[i]["id"] for i in matched[: FIRST_MATCHES - len(run.first_matches)]
    ]
    matches = list(selection.matches)
    if selection.new_hits:
        threshold = run.rule.compiled.threshold
        window = timedelta(seconds=threshold.window_seconds if threshold else 0)
        _forget_before(run.prior, events[0]["timestamp"] - window)
        matches += detection.threshold_matches(selection, compiled, run.prior)
        for ref, hits in selection.new_hits.items():
            run.prior[ref].extend(hit for _, hit in hits)
    plan_alerts(matches, run.open_alerts, events=events, ruleset=run.ruleset, now=run.now)


def _forget_before(prior: dict[Any, list[detection.Hit]], moment: datetime) -> None:
    """Drop hits no later window can reach (chunks come in event-time order)."""
    for ref in list(prior):
        hits = prior[ref]
        cut = bisect.bisect_left(hits, moment, key=_TIME_OF)
        if cut == len(hits):
            del prior[ref]
        elif cut:
            del hits[:cut]


def _event_body(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _time(value) if isinstance(value, datetime) else value
        for name, value in event.items()
        if name != "id"
    } | {"id": str(event["id"])}


# What every backtest reads: the keyset, and what alerts take from their events.
_ALWAYS_READ = ("id", "timestamp", "severity", "source_ip")
_LEAF_KEYS = frozenset({"field", "op", "value", "ignore_case"})


def _columns_read(rule: ActiveRule, condition: object) -> tuple[str, ...]:
    """The event columns the rule can look at: a rule of a few plain fields reads only
    those (reading and decoding every event's `data` was most of a backtest's time).
    All of them when the condition holds anything this does not know to be a plain
    leaf."""
    fields: set[str] = set(_ALWAYS_READ)
    fields.update(rule.compiled.group_by)
    threshold = rule.compiled.threshold
    if threshold is not None and threshold.distinct_field is not None:
        fields.add(threshold.distinct_field)
    pending = [condition]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            return _COLUMNS
        if set(node) in ({"all"}, {"any"}):
            pending.extend(next(iter(node.values())))
        elif set(node) == {"not"}:
            pending.append(node["not"])
        elif set(node) <= _LEAF_KEYS and node.get("op") in OPERATORS:
            fields.add(node["field"])
        else:
            return _COLUMNS
    tops = {name.split(".")[0] for name in fields}
    return tuple(name for name in _COLUMNS if name in tops)


def _full_events(ids: list[UUID]) -> list[dict[str, Any]]:
    """The stored events of these ids, whole, in the order given."""
    rows = {row["id"]: row for row in Event.objects.filter(pk__in=ids).values(*_COLUMNS)}
    return [_event_body(rows[event_id]) for event_id in ids if event_id in rows]


_TIME_OF = operator.itemgetter(0)  # Hit.timestamp
_COLUMNS = tuple(name for name in SENT_FIELDS if name != "received_by")
_decode_json = msgspec.json.Decoder().decode


def _stored_events(
    rule: detection.CompiledRule,
    read: tuple[str, ...],
    since: datetime,
    until: datetime,
    *,
    limit: int,
) -> Iterator[list[dict[str, Any]]]:
    """The events in range the rule could match, as event dicts, in (timestamp, id)
    order, CHUNK at a time by keyset (each query one index range; nothing held open
    between chunks). The rule's event types, when it names them, go into the WHERE:
    the events of other types are neither read nor counted as scanned."""
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in read)
    adapt = bulk_insert.datetime_adapter()
    where = ["timestamp >= %s", "timestamp <= %s"]
    params: list[Any] = [adapt(since), adapt(until)]
    if rule.event_types is not None:
        types = sorted(rule.event_types)
        where.append(f"event_type IN ({', '.join(['%s'] * len(types))})")
        params += types
    done = 0
    after: tuple[Any, Any] | None = None
    convert = _row_converter(read)
    last_time, last_id = read.index("timestamp"), read.index("id")
    while done < limit:
        # "t >= T AND (t > T OR id > I)": the first part is an index range, so each
        # query starts at the previous chunk's end instead of scanning up to it.
        keyset = ["timestamp >= %s AND (timestamp > %s OR id > %s)"] if after else []
        keyset_params = [after[0], after[0], after[1]] if after else []
        sql = (
            f"SELECT {columns} FROM {table} "  # noqa: S608 - names are ours
            f"WHERE {' AND '.join(where + keyset)} ORDER BY timestamp, id LIMIT %s"
        )
        size = min(CHUNK, limit - done)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *keyset_params, size])
            rows = cursor.fetchall()
        if not rows:
            return
        done += len(rows)
        after = (rows[-1][last_time], rows[-1][last_id])
        yield [convert(row) for row in rows]
        if len(rows) < size:
            return


def _row_converter(read: tuple[str, ...]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A stored row of the columns `read` -> the event dict (of those fields) ingestion
    would have selected over."""
    postgres = connection.vendor == "postgresql"
    has_data = "data" in read

    def convert(row: Sequence[Any]) -> dict[str, Any]:
        event = dict(zip(read, row, strict=True))
        if has_data:
            data = event["data"]
            event["data"] = _decode_json(data) if isinstance(data, str | bytes) else data
        if not postgres:  # naive UTC times and hex ids
            event["timestamp"] = event["timestamp"].replace(tzinfo=UTC)
            event["id"] = UUID(event["id"])
        return event

    return convert
