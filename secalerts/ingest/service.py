"""The whole ingest path: store a batch, run the rules over it, record alerts, notify."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from secalerts import detection
from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.services.matches import RecordResult, record_matches
from secalerts.events.conflicts import check_duplicates
from secalerts.events.storage import event_rows, insert_events
from secalerts.rules import registry, window_state


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Of a batch that may hold several requests' events (ingest.group_commit)."""

    alert_ids: tuple[int, ...]
    stored_ids: frozenset[UUID]
    received_at: datetime
    event_alerts: dict[UUID, set[int]]  # stored event id -> the alerts it raised or updated

    def alerts_of(self, event_ids: Sequence[UUID]) -> list[int]:
        """The alerts these events raised or updated, in the order of `alert_ids`."""
        linked = set().union(*(self.event_alerts.get(i, ()) for i in event_ids))
        return [alert_id for alert_id in self.alert_ids if alert_id in linked]


def ingest_events(*, events: Sequence[dict[str, Any]]) -> IngestResult:
    """Store validated events (see events.validation) and raise or update alerts.

    One transaction for the batch: either every new event, its threshold state and its
    alerts are stored, or none. Events whose id is already stored with the same content
    are duplicates: not stored again, not run through the rules again. Raises IdConflict,
    storing nothing, when an id is stored (or earlier in `events`) with other content.
    """
    now = timezone.now()
    # What needs no stored state is done before the transaction: on SQLite it holds the
    # database's one write lock throughout, and another worker's batch waits for it.
    rows = event_rows(events, received_at=now)
    ruleset = registry.active_rules()
    prepared = _Prepared.of(events, ruleset, now) if ruleset.rules else None
    with transaction.atomic():
        kept = insert_events(rows)
        if len(kept) < len(events):
            check_duplicates(events, kept=kept)  # raising rolls the batch back
        new_events = [events[position] for position in kept]
        stored = frozenset(event["id"] for event in new_events)
        if prepared is not None and len(kept) < len(events):
            prepared = prepared.only(kept, now)  # duplicates left out
        recorded = _NOTHING
        if new_events and prepared is not None:
            recorded = _detect(new_events, ruleset, prepared.selection, prepared.packs, now)
    # After the write lock too (pushes read the alerts and may wait on Redis).
    notify_alerts(created=recorded.created, updated=recorded.updated)
    return IngestResult(
        alert_ids=tuple(recorded.alert_ids),
        stored_ids=stored,
        received_at=now,
        event_alerts=recorded.event_alerts,
    )


_NOTHING = RecordResult(created=(), updated=())


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What the rules find in a batch, and the threshold packs of their hits."""

    selection: detection.Selection
    packs: dict[window_state.GroupRef, window_state.PackRow]

    @classmethod
    def of(
        cls, events: Sequence[dict[str, Any]], ruleset: registry.RuleSet, now: datetime
    ) -> "_Prepared":
        selection = detection.select(events, ruleset.index)
        return cls(selection, window_state.pack_hits(selection.new_hits, now=now))

    def only(self, kept: Sequence[int], now: datetime) -> "_Prepared":
        """Of the events at these positions alone: packs are made again only for the
        groups that lost hits."""
        selection = self.selection.only(kept)
        before = self.selection.new_hits
        changed = {r: h for r, h in selection.new_hits.items() if len(h) < len(before[r])}
        packs = {ref: self.packs[ref] for ref in selection.new_hits if ref not in changed}
        packs.update(window_state.pack_hits(changed, now=now))
        return _Prepared(selection, packs)


def _detect(
    events: list[dict[str, Any]],
    ruleset: registry.RuleSet,
    selection: detection.Selection,
    packs: dict[window_state.GroupRef, window_state.PackRow],
    now: datetime,
) -> RecordResult:
    keys = {registry.group_key(m.rule_id, m.group) for m in selection.matches}
    keys.update(registry.group_key(rule_id, group) for rule_id, group in selection.new_hits)
    if not keys:
        return _NOTHING
    window_state.lock_groups(keys)
    prior, counted = window_state.NO_PRIOR_HITS, []
    if selection.new_hits:
        prior = window_state.load_prior_hits(selection.lookup_ranges())
        counted = detection.threshold_matches(selection, ruleset.compiled, prior.hits)
    recorded = record_matches(
        matches=[*selection.matches, *counted],
        events=events,
        ruleset=ruleset,
        now=now,
        linked=prior.linked,
    )
    if selection.new_hits:
        alerts = recorded.match_alerts[len(selection.matches) :]
        window_state.store_hits(packs, alerts=_sole_alerts(selection, counted, alerts))
    return recorded


def _sole_alerts(
    selection: detection.Selection, counted: list[detection.Match], alert_ids: Sequence[int]
) -> dict[window_state.GroupRef, int]:
    """Groups whose new hits all went into one alert (stored with their pack), by group."""
    covered: dict[window_state.GroupRef, int] = defaultdict(int)
    alerts: dict[window_state.GroupRef, set[int]] = defaultdict(set)
    for match, alert_id in zip(counted, alert_ids, strict=True):
        ref = (match.rule_id, match.group)
        covered[ref] += len(match.event_indexes)  # a group's windows share no new hit
        alerts[ref].add(alert_id)
    return {
        ref: next(iter(alerts[ref]))
        for ref, hits in selection.new_hits.items()
        if covered[ref] == len(hits) and len(alerts[ref]) == 1
    }
