"""Event-time windows: prior and new hits of one group in, qualifying clusters out.

A window qualifies when at least `count` hits (or distinct values) have timestamps
spanning at most `window_seconds`, inclusive. Only windows holding a new hit are
reported, so each batch reports what it completed; the union over batches is the
same whatever the arrival order or batching, because the last hit of any qualifying
window to arrive completes it then.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from secalerts.detection.errors import RuleSyntaxError

MAX_COUNT = 100_000
MAX_WINDOW_SECONDS = 31_536_000  # a year


@dataclass(frozen=True, slots=True)
class Threshold:
    count: int
    window_seconds: int
    distinct_field: str | None = None


class Hit(NamedTuple):
    """One counted event: `ref` identifies it (the event id), `value` is its distinct value.
    A named tuple: a batch makes thousands, at a third of a frozen dataclass's cost."""

    timestamp: datetime
    ref: object
    value: object = None


@dataclass(frozen=True, slots=True)
class Cluster:
    """Overlapping qualifying windows merged: which new and prior hits they hold."""

    new_positions: tuple[int, ...]  # positions in the `new` sequence given to find_clusters
    prior_refs: tuple[object, ...]
    first_seen: datetime
    last_seen: datetime


def parse_threshold(raw: object, *, path: str = "threshold") -> Threshold | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RuleSyntaxError(path, 'must be {"count": N, "window_seconds": W} or null')
    unknown = set(raw) - {"count", "window_seconds", "distinct_field"}
    if unknown:
        raise RuleSyntaxError(f"{path}.{sorted(unknown)[0]}", "unknown key")
    for key in ("count", "window_seconds"):
        if key not in raw:
            raise RuleSyntaxError(path, f"{key} is required")
    count, window = raw["count"], raw["window_seconds"]
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        raise RuleSyntaxError(f"{path}.count", f"must be a whole number from 1 to {MAX_COUNT}")
    if (
        not isinstance(window, int)
        or isinstance(window, bool)
        or not 0 <= window <= MAX_WINDOW_SECONDS
    ):
        raise RuleSyntaxError(
            f"{path}.window_seconds", f"must be a whole number from 0 to {MAX_WINDOW_SECONDS}"
        )
    distinct = raw.get("distinct_field")
    if distinct is not None:
        from secalerts.detection.fields import compile_field

        compile_field(distinct, f"{path}.distinct_field")
    return Threshold(count=count, window_seconds=window, distinct_field=distinct)


def find_clusters(threshold: Threshold, new: Sequence[Hit], prior: Iterable[Hit]) -> list[Cluster]:
    """Qualifying windows of one group that hold at least one new hit, merged when they overlap."""
    new_refs = {hit.ref for hit in new}
    entries = [(hit, position) for position, hit in enumerate(new)]
    entries += [(hit, -1) for hit in prior if hit.ref not in new_refs]
    try:  # ties in time broken by the ref, so arrival order never changes the answer
        entries.sort(key=lambda entry: (entry[0].timestamp, entry[0].ref))
    except TypeError:  # refs of several types (engine callers other than ingest)
        entries.sort(key=lambda entry: (entry[0].timestamp, str(entry[0].ref)))
    size = len(entries)
    if size < threshold.count:
        return []
    window = timedelta(seconds=threshold.window_seconds)
    distinct = threshold.distinct_field is not None
    # new_before[k]: how many new hits among entries[:k], to ask "does [i, j) hold a new hit".
    new_before = [0]
    for _, position in entries:
        new_before.append(new_before[-1] + (position >= 0))

    # A sustained attack's window holds tens of thousands of hits, all walked again by
    # every batch: plain lists, and distinct values tallied only when they are counted.
    stamps = [hit.timestamp for hit, _ in entries]
    spans: list[tuple[int, int]] = []
    values: Counter[object] = Counter()
    end = 0
    for start in range(size):
        limit = stamps[start] + window
        while end < size and stamps[end] <= limit:
            if distinct:
                values[entries[end][0].value] += 1
            end += 1
        amount = len(values) if distinct else end - start
        if amount >= threshold.count and new_before[end] > new_before[start]:
            if spans and start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        if distinct:
            value = entries[start][0].value
            values[value] -= 1
            if not values[value]:
                del values[value]

    clusters = []
    for low, high in spans:
        members = entries[low:high]
        clusters.append(
            Cluster(
                new_positions=tuple(sorted(p for _, p in members if p >= 0)),
                prior_refs=tuple(hit.ref for hit, p in members if p < 0),
                first_seen=members[0][0].timestamp,
                last_seen=members[-1][0].timestamp,
            )
        )
    return clusters
