"""Event-time threshold windows: boundaries, distinct counts, and order independence."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import Hit, Threshold, compile_rule, select, threshold_matches

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAIL = {"field": "event_type", "op": "eq", "value": "auth.failure"}


def event(i, seconds, ip="198.51.100.1", user="root", **extra):
    return {
        "id": f"e{i}",
        "event_type": "auth.failure",
        "timestamp": T0 + timedelta(seconds=seconds),
        "source_ip": ip,
        "username": user,
    } | extra


def rule(count=3, window=60, distinct=None):
    return compile_rule(
        FAIL,
        rule_id=1,
        group_by=["source_ip"],
        threshold=Threshold(count=count, window_seconds=window, distinct_field=distinct),
    )


def run_batches(batches, rules):
    """Feed batches in turn, keeping earlier hits as prior state, as the service does.
    Returns {group: set of linked event ids}."""
    stored: dict = {}
    linked: dict = {}
    for events in batches:
        selection = select(events, rules)
        prior = {ref: list(stored.get(ref, [])) for ref in selection.new_hits}
        for match in threshold_matches(selection, rules, prior):
            refs = {events[i]["id"] for i in match.event_indexes} | set(match.prior_refs)
            linked.setdefault(match.group, set()).update(refs)
        for ref, hits in selection.new_hits.items():
            stored.setdefault(ref, []).extend(hit for _, hit in hits)
    return linked


@pytest.mark.parametrize(
    ("offsets", "fires"),
    [
        ([0, 30, 60], True),  # spans exactly the window: inclusive
        ([0, 30, 61], False),
        ([0, 61, 62, 63], True),
        ([0, 0, 0], True),
        ([0, 100, 200], False),
    ],
)
def test_window_boundaries(offsets, fires):
    events = [event(i, s) for i, s in enumerate(offsets)]

    linked = run_batches([events], [rule()])

    assert bool(linked) is fires


def test_distinct_counts_values_not_events():
    events = [event(i, i, user=u) for i, u in enumerate(["a", "a", "b", "b", "a"])]
    events_enough = [*events, event(9, 9, user="c")]

    assert run_batches([events], [rule(distinct="username")]) == {}
    linked = run_batches([events_enough], [rule(distinct="username")])
    assert linked == {("198.51.100.1",): {e["id"] for e in events_enough}}


def test_events_missing_group_or_distinct_values_do_not_count():
    events = [event(0, 0), event(1, 1, ip=None), event(2, 2), event(3, 3, user=None)]
    no_group = [event(0, 0), event(1, 1, ip=None), event(2, 2)]

    assert run_batches([no_group], [rule()]) == {}
    assert run_batches([events], [rule(count=3, distinct="username")]) == {}


def test_only_events_in_qualifying_windows_are_linked():
    events = [event(0, 0), event(1, 1000), event(2, 1001), event(3, 1002), event(4, 5000)]

    linked = run_batches([events], [rule()])

    assert linked == {("198.51.100.1",): {"e1", "e2", "e3"}}


def test_late_events_complete_a_window_with_prior_hits():
    first = [event(0, 0), event(1, 10)]
    late = [event(2, 5)]

    linked = run_batches([first, late], [rule()])

    assert linked == {("198.51.100.1",): {"e0", "e1", "e2"}}


def test_a_prior_hit_already_counted_is_not_a_new_one():
    hits = [Hit(T0, "e0"), Hit(T0, "e1")]
    events = [event(0, 0)]  # e0 arrives again: the same event, not a third hit
    selection = select(events, [rule()])

    matches = threshold_matches(selection, [rule()], {(1, ("198.51.100.1",)): hits})

    assert matches == []


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(
        st.tuples(st.integers(0, 600), st.sampled_from(["a", "b"]), st.sampled_from("uvwxyz")),
        min_size=1,
        max_size=40,
    ),
    count=st.integers(1, 5),
    window=st.integers(0, 120),
    distinct=st.booleans(),
    seed=st.integers(0, 10_000),
    batches=st.integers(1, 8),
)
def test_any_order_and_any_split_link_the_same_events(
    offsets, count, window, distinct, seed, batches
):
    events = [event(i, s, ip=ip, user=user) for i, (s, ip, user) in enumerate(offsets)]
    rules = [rule(count=count, window=window, distinct="username" if distinct else None)]
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    size = -(-len(shuffled) // batches)
    split = [shuffled[i : i + size] for i in range(0, len(shuffled), size)]

    assert run_batches(split, rules) == run_batches([events], rules)


def test_refs_of_several_types_at_one_moment_are_ordered_whatever_their_arrival():
    """Ingest refs are all UUIDs; other callers may mix ids that do not compare."""
    mixed = [event(1, 0, id=1), event(2, 0, id="b"), event(3, 0, id=2.5), event(4, 90, id="a")]
    counting = rule(count=3, window=60)

    def alerted(events):
        selection = select(events, [counting])
        found = threshold_matches(selection, [counting], {})
        return [{events[i]["id"] for i in match.event_indexes} for match in found]

    for order in (mixed, mixed[::-1], mixed[2:] + mixed[:2]):
        assert alerted(order) == [{1, "b", 2.5}]
