"""Detection results -> alerts: deduplicate into open alerts or raise new ones, in bulk."""

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from secalerts import detection
from secalerts.alerts import bulk_sql
from secalerts.alerts.models import Alert, AlertStatus
from secalerts.core import metrics
from secalerts.events.models import SEVERITY_RANK
from secalerts.rules.registry import ActiveRule, RuleSet, group_key


@dataclass(frozen=True, slots=True)
class RecordResult:
    created: tuple[int, ...]
    updated: tuple[int, ...]
    # The alerts each event of the batch was linked to (raised or updated by it).
    event_alerts: dict[Any, set[int]] = field(default_factory=dict)
    # The alert each match joined or raised.
    alert_of: dict[detection.Match, int] = field(default_factory=dict)

    @property
    def alert_ids(self) -> list[int]:
        return [*self.created, *self.updated]


_NONE_LINKED: Mapping[int, Set[Any]] = {}


@dataclass(slots=True)
class PendingAlert:
    """An alert being built or extended in memory before the bulk writes."""

    alert: Alert
    new_event_ids: set[Any] = field(default_factory=set)
    prior_event_ids: set[Any] = field(default_factory=set)
    changed: bool = False


def record_matches(
    matches: Sequence[detection.Match],
    linked: Mapping[int, Set[Any]] = _NONE_LINKED,
    *,
    events: Sequence[dict[str, Any]],
    ruleset: RuleSet,
    now: datetime,
) -> RecordResult:
    """Call inside the ingest transaction, with these groups locked: window_state.detect
    calls it with the matches and what it knows is `linked` (alert id -> prior event ids
    linked to it already); the events, rule set and time are bound beforehand.

    A match joins an open alert of the same rule and group when their event times are
    within the rule's dedup window of each other; otherwise it raises a new alert.
    """
    if not matches:
        return RecordResult(created=(), updated=())
    rules = ruleset.by_id()
    by_key = _by_key(matches)
    open_alerts: dict[str, list[PendingAlert]] = defaultdict(list)
    for alert in _open_candidates(by_key, rules):
        open_alerts[alert.group_key].append(PendingAlert(alert))
    joined = plan_alerts(matches, open_alerts, events=events, ruleset=ruleset, now=now)
    result = _write(
        [pending for group in open_alerts.values() for pending in group if pending.changed],
        linked,
    )
    return replace(result, alert_of={match: pending.alert.pk for match, pending in joined.items()})


def plan_alerts(
    matches: Sequence[detection.Match],
    open_alerts: dict[str, list[PendingAlert]],
    *,
    events: Sequence[dict[str, Any]],
    ruleset: RuleSet,
    now: datetime,
) -> dict[detection.Match, PendingAlert]:
    """Deduplicate matches into open alerts, in memory: each match joins an alert of
    `open_alerts` (by group key; new ones are added there) or raises a new one. Returns
    the alert each match joined or raised. Nothing is written: record_matches writes the
    changed ones; a rule test or backtest only shows them."""
    rules = ruleset.by_id()
    joined: dict[detection.Match, PendingAlert] = {}
    for key, key_matches in _by_key(matches).items():
        rule = rules[key_matches[0].rule_id]
        window = timedelta(seconds=rule.dedup_window_seconds)
        # A rule without group_by raises one alert per matching event: nothing to dedup.
        dedup = bool(rule.compiled.group_by)
        for match in sorted(key_matches, key=lambda m: (m.first_seen, m.last_seen)):
            pending = _find_open(open_alerts[key], match, window) if dedup else None
            if pending is None:
                pending = PendingAlert(_new_alert(rule, match, key, events, now))
                open_alerts[key].append(pending)
            _extend(pending, rule, match, events, now)
            joined[match] = pending
    return joined


def _by_key(matches: Sequence[detection.Match]) -> dict[str, list[detection.Match]]:
    by_key: dict[str, list[detection.Match]] = defaultdict(list)
    for match in matches:
        by_key[group_key(match.rule_id, match.group)].append(match)
    return by_key


def _open_candidates(
    by_key: dict[str, list[detection.Match]], rules: dict[int, ActiveRule]
) -> list[Alert]:
    """Open alerts these matches could join: same rule and group, near them in event time."""
    dedup = {key: ms for key, ms in by_key.items() if rules[ms[0].rule_id].compiled.group_by}
    if not dedup:
        return []
    window = timedelta(
        seconds=max(rules[ms[0].rule_id].dedup_window_seconds for ms in dedup.values())
    )
    earliest = min(m.first_seen for ms in dedup.values() for m in ms) - window
    latest = max(m.last_seen for ms in dedup.values() for m in ms) + window
    return bulk_sql.open_alerts_near(list(dedup), earliest, latest)


def _find_open(
    candidates: list[PendingAlert], match: detection.Match, window: timedelta
) -> PendingAlert | None:
    for pending in candidates:
        alert = pending.alert
        if (
            alert.first_seen - window <= match.last_seen
            and match.first_seen <= alert.last_seen + window
        ):
            return pending
    return None


def _new_alert(
    rule: ActiveRule,
    match: detection.Match,
    key: str,
    events: Sequence[dict[str, Any]],
    now: datetime,
) -> Alert:
    group = detection.group_dict(rule.compiled, match.group)
    values = ", ".join("-" if value is None else str(value) for value in group.values())
    # A correlation chain can complete on events all stored earlier: none of this batch.
    first = min(match.event_indexes, key=lambda i: events[i]["timestamp"], default=None)
    alert = Alert(
        title=f"{rule.name}: {values}"[:500] if values else rule.name[:500],
        description=rule.description,
        status=AlertStatus.OPEN,
        rule_id=rule.id,
        group=group,
        group_key=key,
        source_ip=None if first is None else events[first]["source_ip"],
        event_count=0,
        first_seen=match.first_seen,
        last_seen=match.last_seen,
        created_at=now,
        updated_at=now,
    )
    alert.set_severity("info" if rule.severity == "inherit" else rule.severity)
    return alert


def _extend(
    pending: PendingAlert,
    rule: ActiveRule,
    match: detection.Match,
    events: Sequence[dict[str, Any]],
    now: datetime,
) -> None:
    alert = pending.alert
    pending.new_event_ids.update(events[i]["id"] for i in match.event_indexes)
    pending.prior_event_ids.update(match.prior_refs)
    alert.first_seen = min(alert.first_seen, match.first_seen)
    alert.last_seen = max(alert.last_seen, match.last_seen)
    if rule.severity == "inherit":
        severities = [events[i]["severity"] for i in match.event_indexes]
        highest = max([alert.severity, *severities], key=SEVERITY_RANK.__getitem__)
        alert.set_severity(highest)
    alert.updated_at = now
    pending.changed = True


def _write(pendings: list[PendingAlert], linked: Mapping[int, Set[Any]]) -> RecordResult:
    new = [p for p in pendings if p.alert.pk is None]
    existing = [p for p in pendings if p.alert.pk is not None]
    for pending in new:  # nothing is linked to a new alert yet: every id counts
        pending.alert.event_count = len(pending.new_event_ids | pending.prior_event_ids)
    bulk_sql.insert_alerts([p.alert for p in new])
    if new and metrics.enabled():
        # Counted once committed: a rolled-back batch raised nothing. The lag runs from the
        # latest event of the match that raised the alert (a threshold's last hit).
        raised = [(p.alert.severity, p.alert.last_seen) for p in new]
        transaction.on_commit(functools.partial(_alerts_committed, raised))

    # Nothing is linked to this batch's events or to a new alert yet; prior hits may be
    # linked to an existing alert already: count the links the database actually added.
    added = bulk_sql.link_events(
        new={
            **{p.alert.pk: p.new_event_ids | p.prior_event_ids for p in new},
            **{p.alert.pk: p.new_event_ids for p in existing},
        },
        maybe_linked={p.alert.pk: _prior_only(p) - linked.get(p.alert.pk, set()) for p in existing},
    )
    for pending in existing:
        pending.alert.event_count += added[pending.alert.pk]
    bulk_sql.update_alert_counters([p.alert for p in existing])
    event_alerts: dict[Any, set[int]] = defaultdict(set)
    for pending in pendings:
        for event_id in pending.new_event_ids:
            event_alerts[event_id].add(pending.alert.pk)
    return RecordResult(
        created=tuple(p.alert.pk for p in new),
        updated=tuple(p.alert.pk for p in existing),
        event_alerts=event_alerts,
    )


def _alerts_committed(raised: list[tuple[str, datetime]]) -> None:
    metrics.alerts_committed(raised, committed_at=timezone.now())


def _prior_only(pending: PendingAlert) -> set[Any]:
    return pending.prior_event_ids - pending.new_event_ids
