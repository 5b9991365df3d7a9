"""Compiled enabled rules, cached per process and refreshed when the version stamp moves.

Every batch reads the one-row version stamp (one cheap query), so a rule created,
changed or disabled in any process takes effect on the next batch everywhere.
"""

import contextlib
import functools
import gc
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass

from django.db import connection

from secalerts import detection
from secalerts.core import metrics
from secalerts.detection.correlations import (
    Correlation,
    compile_correlation,
    in_order,
    parse_correlation,
)
from secalerts.rules.models import Rule, RuleSetVersion


@dataclass(frozen=True, slots=True)
class ActiveRule:
    id: int
    name: str
    description: str
    severity: str  # a level, or "inherit"
    dedup_window_seconds: int
    compiled: detection.CompiledRule
    generate: bool = True  # False: its matches only feed correlations, no alerts of its own
    correlation: Correlation | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    rules: tuple[ActiveRule, ...]
    index: detection.RuleIndex
    # Referenced ones before those referencing them (in_order).
    correlations: tuple[Correlation, ...] = ()
    silent: frozenset[int] = frozenset()  # ids of rules that raise no alerts of their own

    @property
    def compiled(self) -> list[detection.CompiledRule]:
        return [rule.compiled for rule in self.rules]

    def by_id(self) -> dict[int, ActiveRule]:
        return {rule.id: rule for rule in self.rules}


def group_key(rule_id: Hashable, group: Iterable[Hashable]) -> str:
    """Stable hash of a rule and its group values: the dedup and threshold key."""
    values = tuple(group)
    # The types are part of the memo's key: 1, 1.0 and True are equal, their JSON is not.
    return _hashed_group(rule_id, values, (type(rule_id), *map(type, values)))


@functools.lru_cache(maxsize=8192)
def _hashed_group(rule_id: Hashable, group: tuple[Hashable, ...], types: tuple[type, ...]) -> str:
    """Remembered: a batch asks for the same few groups' keys again and again (each
    match, the window state, the alerts), and a busy group recurs in every batch."""
    text = json.dumps([rule_id, list(group)], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


logger = logging.getLogger(__name__)
_lock = threading.Lock()
_cached = RuleSet(version="", rules=(), index=detection.index_rules([]))


def current_version() -> str:
    # Raw SQL: this runs once per batch, and the ORM's query building costs more than the query.
    table = connection.ops.quote_name(RuleSetVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {table} WHERE id = 1")  # noqa: S608 - our name
        row = cursor.fetchone()
    return row[0] if row is not None else "none"


def active_rules() -> RuleSet:
    global _cached
    version = current_version()
    cached = _cached
    if cached.version == version:
        return cached
    with _lock, collector_paused():
        rules = tuple(_compile_enabled())
        index = detection.index_rules([rule.compiled for rule in rules])
        _cached = RuleSet(
            version=version,
            rules=rules,
            index=index,
            correlations=tuple(in_order([r.correlation for r in rules if r.correlation])),
            silent=frozenset(rule.id for rule in rules if not rule.generate),
        )
        metrics.set_rules_loaded(len(rules))
        return _cached


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Compiling thousands of rules allocates objects that all stay alive, so the
    collections it triggers walk the heap for nothing: 70% of compiling SigmaHQ's
    process-creation rules (docs/performance.md, "Rule index")."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile_enabled() -> list[ActiveRule]:
    compiled = []
    enabled = list(Rule.objects.filter(enabled=True).order_by("pk"))
    # What a correlation may take hits from: enabled plain rules and correlations.
    referable = {
        rule.pk: (tuple(rule.group_by) if rule.correlation is not None else None)
        for rule in enabled
        if rule.threshold is None
    }
    for rule in enabled:
        try:
            predicate = rule.compile()
            correlation = None
            if rule.correlation is not None:
                correlation = compile_correlation(
                    parse_correlation(rule.correlation),
                    rule_id=rule.pk,
                    group_by=rule.group_by,
                    referenced=referable,
                )
        except detection.RuleSyntaxError:
            # Saved around validation (a raw SQL edit, say): skip it rather than fail ingestion.
            logger.exception("rule %s does not compile and is skipped", rule.pk)
            continue
        compiled.append(
            ActiveRule(
                id=rule.pk,
                name=rule.name,
                description=rule.description,
                severity=rule.severity,
                dedup_window_seconds=rule.dedup_window_seconds,
                compiled=predicate,
                generate=rule.generate,
                correlation=correlation,
            )
        )
    return compiled


def bump_version() -> None:
    """Call inside the transaction that changes rules."""
    RuleSetVersion.objects.update_or_create(pk=1, defaults={"stamp": uuid.uuid4().hex})
