"""Correlations on event time, as tables: each type at its edges, any arrival order or
split into batches, and chains. No database: stored hits are what earlier batches stored."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from secalerts.detection import RuleSyntaxError, compile_rule, select
from secalerts.detection.correlations import (
    compile_correlation,
    correlate,
    correlation_hits,
    lookup_ranges,
    parse_correlation,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
FAILED, SUCCESS, RECON_A, RECON_B, RECON_C = 1, 2, 3, 4, 5
BASE = {
    FAILED: "auth.failure",
    SUCCESS: "auth.success",
    RECON_A: "recon.a",
    RECON_B: "recon.b",
    RECON_C: "recon.c",
}
PLAIN = [
    compile_rule({"field": "event_type", "op": "eq", "value": t}, rule_id=rule_id)
    for rule_id, t in BASE.items()
]


def event(second: int, event_type: str, user: str | None = "alice", **fields) -> dict:
    return {
        "id": uuid.uuid4(),
        "timestamp": T0 + timedelta(seconds=second),
        "event_type": event_type,
        "source": "dc-1",
        "username": user,
    } | fields


def correlation(rule_id: int, group_by=("username",), **raw):
    spec = parse_correlation(raw)
    referenced = {r: (None if r in BASE else UPSTREAM_GROUPS[r]) for r in spec.rules}
    return compile_correlation(spec, rule_id=rule_id, group_by=group_by, referenced=referenced)


UPSTREAM_GROUPS = {100: ("username",)}


class Stream:
    """Batches through the pure engine, stored hits kept between them as window_state does."""

    def __init__(self, *correlations):
        self.correlations = list(correlations)
        self.stored: dict = {}
        self.fired: list = []  # (rule id, group, event types of the match's batch events)

    def send(self, events: list[dict]) -> list:
        selection = select(events, PLAIN)
        hits = correlation_hits(self.correlations, selection.matches, events)
        ranges = lookup_ranges(self.correlations, hits)
        prior = {
            ref: [h for h in self.stored.get(ref, []) if low <= h.timestamp <= high]
            for ref, (low, high) in ranges.items()
        }
        outcome = correlate(self.correlations, hits, prior)
        for ref, new in outcome.new_hits.items():
            assert ref in ranges  # every stored group was locked and loaded
            self.stored.setdefault(ref, []).extend(n.hit for n in new)
        self.fired.extend(outcome.matches)
        return outcome.matches

    def rules_fired(self) -> list:
        return sorted({(m.rule_id, m.group) for m in self.fired})


def failures(*seconds, user="alice"):
    return [event(s, "auth.failure", user) for s in seconds]


@pytest.mark.parametrize(
    ("seconds", "fires"),
    [
        ((0, 30, 60), True),  # exactly at the timespan: both ends inclusive
        ((0, 30, 61), False),  # one second over
        ((1, 30, 60), True),  # one second short
        ((0, 30), False),  # one event short
        ((60, 0, 30), True),  # out of order
    ],
)
def test_event_count_edges(seconds, fires):
    stream = Stream(
        correlation(
            10, type="event_count", rules=[FAILED], timespan_seconds=60, condition={"gte": 3}
        )
    )

    stream.send(failures(*seconds))

    assert stream.rules_fired() == ([(10, ("alice",))] if fires else [])


def test_event_count_gt_needs_one_more():
    stream = Stream(
        correlation(
            10, type="event_count", rules=[FAILED], timespan_seconds=60, condition={"gt": 3}
        )
    )

    assert stream.send(failures(0, 10, 20)) == []
    (match,) = stream.send(failures(30))

    assert (match.first_seen, match.last_seen) == (T0, T0 + timedelta(seconds=30))
    assert len(match.prior_refs) == 3
    assert match.event_indexes == (0,)


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_event_count_across_batches_in_any_order_fires_once(order):
    batches = [failures(0), failures(20), failures(40, 200), failures(60)]
    stream = Stream(
        correlation(
            10, type="event_count", rules=[FAILED], timespan_seconds=60, condition={"gte": 4}
        )
    )

    for position in order:
        stream.send(batches[position])

    (match,) = stream.fired  # the one window 0..60 completes once, whichever batch ends it
    assert match.first_seen == T0
    assert match.last_seen == T0 + timedelta(seconds=60)
    assert len(match.event_indexes) + len(match.prior_refs) == 4


def test_event_count_counts_each_group_apart_and_skips_missing_values():
    stream = Stream(
        correlation(
            10, type="event_count", rules=[FAILED], timespan_seconds=60, condition={"gte": 2}
        )
    )

    stream.send(
        [
            *failures(0, 5, user="alice"),
            *failures(1, user="bob"),
            event(2, "auth.failure", user=None),
        ]
    )

    assert stream.rules_fired() == [(10, ("alice",))]


@pytest.mark.parametrize(
    ("users", "seconds", "fires"),
    [
        (("a", "b", "c"), (0, 30, 60), True),
        (("a", "b", "b"), (0, 30, 60), False),  # two distinct values only
        (("a", "b", "c"), (0, 30, 61), False),  # one second over
    ],
)
def test_value_count_edges(users, seconds, fires):
    stream = Stream(
        correlation(
            11,
            group_by=("source",),
            type="value_count",
            rules=[FAILED],
            timespan_seconds=60,
            condition={"gte": 3},
            field="username",
        )
    )

    stream.send([event(s, "auth.failure", u) for u, s in zip(users, seconds, strict=True)])

    assert stream.rules_fired() == ([(11, ("dc-1",))] if fires else [])


RECON = [RECON_A, RECON_B, RECON_C]


@pytest.mark.parametrize(
    ("kind", "types_at", "fires"),
    [
        ("temporal", [("recon.c", 0), ("recon.a", 150), ("recon.b", 300)], True),
        ("temporal", [("recon.a", 0), ("recon.b", 150), ("recon.c", 301)], False),
        ("temporal", [("recon.a", 0), ("recon.b", 150), ("recon.b", 300)], False),
        ("temporal_ordered", [("recon.a", 0), ("recon.b", 150), ("recon.c", 300)], True),
        ("temporal_ordered", [("recon.a", 0), ("recon.c", 150), ("recon.b", 300)], False),
        ("temporal_ordered", [("recon.a", 0), ("recon.b", 0), ("recon.c", 0)], True),  # ties
        ("temporal_ordered", [("recon.a", 0), ("recon.b", 150), ("recon.c", 301)], False),
        # a later a..b..c inside the timespan, after an out-of-window a
        (
            "temporal_ordered",
            [("recon.a", 0), ("recon.b", 10), ("recon.a", 100), ("recon.c", 350)],
            False,
        ),
        (
            "temporal_ordered",
            [("recon.a", 0), ("recon.a", 100), ("recon.b", 110), ("recon.c", 350)],
            True,
        ),
    ],
)
def test_temporal_edges(kind, types_at, fires):
    stream = Stream(correlation(12, type=kind, rules=RECON, timespan_seconds=300))

    stream.send([event(s, t) for t, s in types_at])

    assert stream.rules_fired() == ([(12, ("alice",))] if fires else [])


@pytest.mark.parametrize("kind", ["temporal", "temporal_ordered"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_temporal_across_batches_in_any_arrival_order(kind, order):
    batches = [[event(0, "recon.a")], [event(100, "recon.b")], [event(200, "recon.c")]]
    stream = Stream(correlation(12, type=kind, rules=RECON, timespan_seconds=300))

    for position in order:
        stream.send(batches[position])

    assert len(stream.fired) == 1  # event time decides, not arrival


def test_temporal_minimum_of_rules():
    stream = Stream(
        correlation(12, type="temporal", rules=RECON, timespan_seconds=300, condition={"gte": 2})
    )

    stream.send([event(0, "recon.a"), event(10, "recon.c")])

    assert stream.rules_fired() == [(12, ("alice",))]


def test_aliases_group_different_fields_of_each_rule():
    stream = Stream(
        correlation(
            13,
            group_by=("host",),
            type="temporal",
            rules=[RECON_A, RECON_B],
            timespan_seconds=10,
            aliases={"host": {str(RECON_A): "source", str(RECON_B): "data.target"}},
        )
    )

    stream.send(
        [
            event(0, "recon.a", source="srv-9"),
            event(5, "recon.b", data={"target": "srv-9"}),
            event(6, "recon.b", data={"target": "srv-1"}),
        ]
    )

    assert stream.rules_fired() == [(13, ("srv-9",))]


def chained():
    many_failed = correlation(
        100, type="event_count", rules=[FAILED], timespan_seconds=600, condition={"gte": 10}
    )
    followed = correlation(101, type="temporal_ordered", rules=[100, SUCCESS], timespan_seconds=600)
    return many_failed, followed


def test_chain_failed_logins_followed_by_a_success():
    stream = Stream(*chained())

    stream.send(failures(*range(0, 100, 10)))  # the tenth at 90 s
    stream.send([event(95, "auth.success")])

    assert stream.rules_fired() == [(100, ("alice",)), (101, ("alice",))]


@pytest.mark.parametrize(
    ("success_at", "fires"),
    [
        (90, True),  # at the moment the tenth failure completes the count: in order
        (89, False),  # before the count was reached
        (690, True),  # exactly the timespan after
        (691, False),  # one second over
    ],
)
def test_chain_edges(success_at, fires):
    stream = Stream(*chained())

    stream.send([*failures(*range(0, 100, 10)), event(success_at, "auth.success")])

    assert ((101, ("alice",)) in stream.rules_fired()) is fires


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_chain_across_batches_in_any_arrival_order(order):
    batches = [
        failures(*range(0, 50, 10)),
        failures(*range(50, 100, 10)),
        [event(95, "auth.success")],
    ]
    stream = Stream(*chained())

    for position in order:
        stream.send(batches[position])

    (followed,) = [m for m in stream.fired if m.rule_id == 101]
    # Its window's own events whatever the order: the tenth failure and the success.
    assert len(followed.event_indexes) + len(followed.prior_refs) == 2


def test_late_event_completing_a_stored_window_fires_the_chain_on_stored_events():
    stream = Stream(*chained())
    stream.send([*failures(*range(10, 100, 10)), event(95, "auth.success")])  # nine

    (count, followed) = stream.send(failures(0))  # the tenth, late

    assert (count.rule_id, followed.rule_id) == (100, 101)
    assert count.event_indexes == (0,)
    assert followed.event_indexes == ()  # the ninetieth second's failure, and the success
    assert len(followed.prior_refs) == 2


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"type": "event_count", "rules": [1], "timespan_seconds": 60}, "correlation.condition"),
        ({"type": "sum", "rules": [1], "timespan_seconds": 60}, "correlation.type"),
        (
            {"type": "event_count", "rules": [], "timespan_seconds": 60, "condition": {"gte": 1}},
            "correlation.rules",
        ),
        ({"type": "temporal", "rules": [1], "timespan_seconds": 60}, "correlation.rules"),
        (
            {
                "type": "event_count",
                "rules": [1, 1],
                "timespan_seconds": 60,
                "condition": {"gte": 1},
            },
            "correlation.rules[1]",
        ),
        (
            {
                "type": "event_count",
                "rules": ["x"],
                "timespan_seconds": 60,
                "condition": {"gte": 1},
            },
            "correlation.rules[0]",
        ),
        (
            {"type": "event_count", "rules": [1], "timespan_seconds": -1, "condition": {"gte": 1}},
            "correlation.timespan_seconds",
        ),
        (
            {"type": "event_count", "rules": [1], "timespan_seconds": 60, "condition": {"lt": 5}},
            "correlation.condition.lt",
        ),
        (
            {
                "type": "event_count",
                "rules": [1],
                "timespan_seconds": 60,
                "condition": {"gt": 5, "lte": 9},
            },
            "correlation.condition.lte",
        ),
        (
            {"type": "event_count", "rules": [1], "timespan_seconds": 60, "condition": {"gte": 0}},
            "correlation.condition.gte",
        ),
        (
            {"type": "value_count", "rules": [1], "timespan_seconds": 60, "condition": {"gte": 2}},
            "correlation.field",
        ),
        (
            {
                "type": "value_count",
                "rules": [1],
                "timespan_seconds": 60,
                "condition": {"gte": 2},
                "field": "nope",
            },
            "correlation.field",
        ),
        (
            {
                "type": "temporal_ordered",
                "rules": [1, 2],
                "timespan_seconds": 60,
                "condition": {"gte": 1},
            },
            "correlation.condition.gte",
        ),
        (
            {
                "type": "temporal",
                "rules": [1, 2],
                "timespan_seconds": 60,
                "aliases": {"ip": {"1": "source_ip"}},
            },
            "correlation.aliases.ip",
        ),
        (
            {"type": "temporal", "rules": [1, 2], "timespan_seconds": 60, "extra": 1},
            "correlation.extra",
        ),
    ],
)
def test_invalid_correlations_name_the_path(raw, path):
    with pytest.raises(RuleSyntaxError) as error:
        parse_correlation(raw)

    assert error.value.path == path


def test_chained_correlation_must_group_by_what_it_references_groups_by():
    spec = parse_correlation(
        {"type": "temporal_ordered", "rules": [100, SUCCESS], "timespan_seconds": 60}
    )

    with pytest.raises(RuleSyntaxError) as error:
        compile_correlation(
            spec, rule_id=101, group_by=["source"], referenced={100: ("username",), SUCCESS: None}
        )

    assert error.value.path == "group_by[0]"
