"""Suppressions: written (validated, audited), and applied to a batch's matches.

Applying costs nothing when there are none: the active ones are cached per process
under the rule set's version stamp (which every suppression change moves, like a rule
change), and ingestion reads that stamp anyway. Expiry needs no job and no stamp: each
batch compares the cached `expires_at` with its own time.
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from secalerts import detection
from secalerts.audit.services import Actor, record, snapshot
from secalerts.core.errors import InvalidInput
from secalerts.detection.fields import compile_field
from secalerts.rules import registry
from secalerts.rules.registry import RuleSet
from secalerts.tuning.models import Suppression

logger = logging.getLogger(__name__)
MAX_LIFETIME = timedelta(days=90)
AUDITED_FIELDS = ("rule", "group", "condition", "reason", "expires_at")


def create_suppression(*, actor: Actor, now: datetime, **fields: Any) -> Suppression:
    suppression = Suppression(created_by=actor.name, **fields)
    _check(suppression, now=now)
    with transaction.atomic():
        suppression.save()
        registry.bump_version()
        after = snapshot(suppression, AUDITED_FIELDS)
        record(actor=actor, action="created", target=suppression, after=after)
    return suppression


def update_suppression(
    *, suppression: Suppression, actor: Actor, now: datetime, **changes: Any
) -> Suppression:
    with transaction.atomic():
        stored = Suppression.objects.select_for_update().get(pk=suppression.pk)
        before = snapshot(stored, AUDITED_FIELDS)
        for name, value in changes.items():
            setattr(stored, name, value)
        _check(stored, now=now)
        stored.save()
        registry.bump_version()
        after = snapshot(stored, AUDITED_FIELDS)
        record(actor=actor, action="updated", target=stored, before=before, after=after)
    return stored


def delete_suppression(*, suppression: Suppression, actor: Actor) -> None:
    with transaction.atomic():
        before = snapshot(suppression, AUDITED_FIELDS)
        record(actor=actor, action="deleted", target=suppression, before=before)
        suppression.delete()
        registry.bump_version()


def _check(suppression: Suppression, *, now: datetime) -> None:
    """400 naming the field: what it covers, and an expiry within MAX_LIFETIME."""
    errors: dict[str, list[str]] = {}
    if suppression.rule_id is None and not suppression.group and suppression.condition is None:
        errors["non_field_errors"] = ["Give at least one of rule, group or condition."]
    if suppression.group is not None and not _is_group(suppression.group):
        errors["group"] = ['Must be an object of field names to values, e.g. {"source_ip": "…"}.']
    if suppression.condition is not None:
        try:
            detection.compile_rule(suppression.condition)
        except detection.RuleSyntaxError as error:
            errors["condition"] = [str(error)]
    if not now < suppression.expires_at <= now + MAX_LIFETIME:
        errors["expires_at"] = [f"Must lie in the future, at most {MAX_LIFETIME.days} days ahead."]
    if errors:
        raise InvalidInput("Invalid suppression.", detail=errors)


def _is_group(group: object) -> bool:
    if not isinstance(group, dict) or not group:
        return False
    try:
        for name in group:
            compile_field(name, "group")
    except detection.RuleSyntaxError:
        return False
    return all(value is None or isinstance(value, str | int | float) for value in group.values())


@dataclass(frozen=True, slots=True)
class ActiveSuppression:
    id: int
    rule_id: int | None
    group: tuple[tuple[str, Any], ...]
    predicate: Callable[[Mapping[str, Any]], bool] | None
    expires_at: datetime

    def covers(
        self, match: detection.Match, group: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
    ) -> bool:
        if self.rule_id is not None and match.rule_id != self.rule_id:
            return False
        if any(name not in group or group[name] != value for name, value in self.group):
            return False
        predicate = self.predicate
        return predicate is None or all(predicate(events[i]) for i in match.event_indexes)


@dataclass(frozen=True, slots=True)
class Suppressions:
    version: str
    active: tuple[ActiveSuppression, ...]

    def __bool__(self) -> bool:
        return bool(self.active)

    def screen[R](
        self,
        record: Callable[[list[detection.Match], Mapping[int, Set[Any]]], R],
        *,
        events: Sequence[Mapping[str, Any]],
        ruleset: RuleSet,
        now: datetime,
    ) -> Callable[[list[detection.Match], Mapping[int, Set[Any]]], R]:
        """`record` (window_state.detect's) for the matches no suppression covers; the
        covered ones are counted on their suppressions, in the same transaction."""

        def screened(matches: list[detection.Match], linked: Mapping[int, Set[Any]]) -> R:
            kept, hits = self.split(matches, events=events, ruleset=ruleset, now=now)
            count_hits(hits, now=now)
            return record(kept, linked)

        return screened

    def split(
        self,
        matches: Sequence[detection.Match],
        *,
        events: Sequence[Mapping[str, Any]],
        ruleset: RuleSet,
        now: datetime,
    ) -> tuple[list[detection.Match], Counter[int]]:
        """(matches no live suppression covers, suppression id -> matches it covered)."""
        live = [s for s in self.active if s.expires_at > now]
        if not live:
            return list(matches), Counter()
        rules = ruleset.by_id()
        kept = []
        hits: Counter[int] = Counter()
        for match in matches:
            group = detection.group_dict(rules[match.rule_id].compiled, match.group)
            covering = [s.id for s in live if s.covers(match, group, events)]
            if covering:
                hits.update(covering)
            else:
                kept.append(match)
        return kept, hits


def count_hits(hits: Mapping[int, int], *, now: datetime) -> None:
    # In id order: two batches counting the same suppressions lock their rows alike.
    for suppression_id in sorted(hits):
        Suppression.objects.filter(pk=suppression_id).update(
            hits=F("hits") + hits[suppression_id],
            last_hit_at=now,
        )


_lock = threading.Lock()
_cached = Suppressions(version="", active=())


def active_suppressions(version: str, *, now: datetime) -> Suppressions:
    """The suppressions live under rule-set version `version` (registry.active_rules()'s)."""
    global _cached
    cached = _cached
    if cached.version == version:
        return cached
    with _lock:
        active = tuple(
            loaded
            for row in Suppression.objects.filter(expires_at__gt=now).order_by("pk")
            if (loaded := _loaded(row)) is not None
        )
        _cached = Suppressions(version=version, active=active)
        return _cached


def _loaded(row: Suppression) -> ActiveSuppression | None:
    try:
        predicate = (
            detection.compile_rule(row.condition).matches if row.condition is not None else None
        )
    except detection.RuleSyntaxError:
        # Saved around validation (a raw SQL edit): skip it rather than fail ingestion.
        logger.exception("suppression %s does not compile and is skipped", row.pk)
        return None
    return ActiveSuppression(
        id=row.pk,
        rule_id=row.rule_id,
        group=tuple((row.group or {}).items()) if isinstance(row.group, dict) else (),
        predicate=predicate,
        expires_at=row.expires_at,
    )
