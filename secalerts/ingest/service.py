"""One batch of validated events through the rules: store, detect, record alerts, push.

The path an event takes, each step one call:

    rows = events.storage.event_rows(...)          before the transaction
    ruleset = rules.registry.active_rules()
    selection = detection.select(events, ruleset.index)
    with transaction.atomic():
        kept = events.storage.insert_events(rows)   duplicates left out
        rules.window_state.detect(selection, ..., record=alerts...record_matches,
                                  screened by tuning.suppressions)
        alerts.notifications.notify_alerts(...)     changes logged; pushes after commit
"""

import functools
import time
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from secalerts import detection
from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.services.matches import RecordResult, record_matches
from secalerts.core import metrics
from secalerts.events.conflicts import check_duplicates
from secalerts.events.storage import event_rows, insert_events
from secalerts.rules import registry, window_state
from secalerts.tuning.suppressions import active_suppressions


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Of a batch that may hold several requests' events (ingest.writer)."""

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
    started = time.perf_counter()
    now = timezone.now()
    # What needs no stored state is done before the transaction: on SQLite it holds the
    # database's one write lock throughout, and another worker's batch waits for it.
    rows = event_rows(events, received_at=now)
    ruleset = registry.active_rules()
    selection = detection.select(events, ruleset.index) if ruleset.rules else None
    with transaction.atomic():
        kept = insert_events(rows)
        new_events = list(events)
        if len(kept) < len(events):
            check_duplicates(events, kept=kept)  # raising rolls the batch back
            new_events = [events[position] for position in kept]
            selection = selection.only(kept) if selection else None
        recorded = _NOTHING
        if new_events and selection is not None:
            record: Callable[[list[detection.Match], Mapping[int, Set[Any]]], RecordResult]
            record = functools.partial(record_matches, events=new_events, ruleset=ruleset, now=now)
            suppressions = active_suppressions(ruleset.version, now=now)
            if suppressions:  # matches they cover raise and update nothing
                record = suppressions.screen(record, events=new_events, ruleset=ruleset, now=now)
            recorded = window_state.detect(
                selection, ruleset, now=now, record=record, events=new_events
            )
        # Inside: the changes are logged (and numbered) and the notification outbox
        # (alerts_changed) written, committing with the alerts. The pushes still run after
        # commit and after the write lock (they read the alerts and may wait on Redis).
        notify_alerts(created=recorded.created, updated=recorded.updated)
    metrics.observe_batch(started)
    return IngestResult(
        alert_ids=tuple(recorded.alert_ids),
        stored_ids=frozenset(event["id"] for event in new_events),
        received_at=now,
        event_alerts=recorded.event_alerts,
    )


_NOTHING = RecordResult(created=(), updated=())
