"""Batches over several rules; no event content can make evaluation raise."""

import json
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import (
    Threshold,
    compile_rule,
    evaluate,
    group_dict,
    max_severity,
    normalize,
    select,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)

RULES = [
    compile_rule({"field": "severity", "op": "in", "value": ["high", "critical"]}, rule_id="high",
                 group_by=["source", "event_type"]),
    compile_rule({"all": [{"field": "event_type", "op": "eq", "value": "auth.failure"},
                          {"field": "source_ip", "op": "cidr", "value": "0.0.0.0/0"}]},
                 rule_id="brute", group_by=["source_ip"], threshold=Threshold(2, 60)),
    compile_rule({"any": [{"field": "data.proc.name", "op": "regex", "value": "(?i)mimikatz"},
                          {"field": "message", "op": "contains", "value": "sekurlsa"},
                          {"field": "destination_port", "op": "gte", "value": 4444},
                          {"not": {"field": "username", "op": "exists", "value": True}}]},
                 rule_id="misc", group_by=["data.proc"]),
]  # fmt: skip


def test_plain_rules_match_per_event_and_thresholds_per_window():
    events = [
        {"id": 1, "timestamp": T0, "event_type": "auth.failure", "source_ip": "10.0.0.1",
         "severity": "high", "source": "fw", "username": "root"},
        {"id": 2, "timestamp": T0, "event_type": "auth.failure", "source_ip": "10.0.0.1",
         "severity": "low", "source": "fw", "username": "root"},
        {"id": 3, "timestamp": T0, "event_type": "proc.start", "source": "edr", "username": "x",
         "data": {"proc": {"name": "MimiKatz.exe"}}},
    ]  # fmt: skip

    matches = evaluate(events, RULES)

    by_rule = {m.rule_id: m for m in matches}
    assert by_rule["high"].event_indexes == (0,)
    assert group_dict(RULES[0], by_rule["high"].group) == {
        "source": "fw",
        "event_type": "auth.failure",
    }
    assert by_rule["brute"].event_indexes == (0, 1)
    assert by_rule["misc"].group == ('{"name": "MimiKatz.exe"}',)


def test_event_type_index_skips_only_events_that_cannot_match():
    events = [{"id": i, "timestamp": T0, "event_type": t} for i, t in enumerate(["a", "b", "a"])]
    rule = compile_rule({"all": [{"field": "event_type", "op": "in", "value": ["a"]}]}, rule_id=1)

    assert [m.event_indexes for m in select(events, [rule]).matches] == [(0,), (2,)]


def test_max_severity():
    assert max_severity(["low", "critical", "high"]) == "critical"
    assert max_severity([]) == "info"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)  # fmt: skip
FIELDS = ["event_type", "severity", "source", "source_ip", "destination_ip", "destination_port",
          "username", "message", "data", "id"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, json_values)), max_size=5))
def test_no_event_content_makes_evaluation_raise(events):
    for index, event in enumerate(events):
        event["timestamp"] = T0
        event.setdefault("id", index)
        if not isinstance(event["id"], str | int):
            event["id"] = index

    evaluate(events, RULES)


def test_group_and_distinct_values_are_json_safe():
    """They are stored (alert groups, window state): every value an event holds encodes."""
    event_id = uuid.uuid4()
    values = [T0, event_id, {"b": [1, 2], "a": None}, [3], float("nan"), None, "x", 7, 2.5, True]
    normalized = [normalize(value) for value in values]

    assert normalized[:5] == [
        "2026-01-01T00:00:00+00:00",
        str(event_id),
        '{"a": null, "b": [1, 2]}',
        "[3]",
        "nan",
    ]
    assert normalized[5:] == values[5:]
    json.dumps(normalized)


TYPED_RULES = [
    compile_rule({"field": "event_type", "op": "eq", "value": "a"}, rule_id="eq-only"),
    compile_rule({"all": [{"field": "event_type", "op": "in", "value": ["a", "b", 1]},
                          {"field": "username", "op": "startswith", "value": "r"}]}, rule_id="in"),
    compile_rule({"all": [{"field": "username", "op": "exists", "value": True},
                          {"field": "event_type", "op": "eq", "value": "b"},
                          {"field": "severity", "op": "ne", "value": "low"}]}, rule_id="eq-second"),
    compile_rule({"all": [{"field": "event_type", "op": "eq", "value": "A", "ignore_case": True},
                          {"field": "severity", "op": "eq", "value": "high"}]}, rule_id="folded"),
    compile_rule({"any": [{"field": "event_type", "op": "eq", "value": "a"},
                          {"field": "severity", "op": "eq", "value": "low"}]}, rule_id="any"),
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "event_type": st.sampled_from(["a", "b", "A", "c", 1, None, ["a"]]),
                "username": st.sampled_from(["root", "alice", 3]),
                "severity": st.sampled_from(["low", "high"]),
            },
        ),
        max_size=8,
    )
)
def test_indexed_rules_match_exactly_what_their_whole_condition_matches(events):
    """The index decides a rule's event-type leaf, so that leaf is not evaluated again."""
    for index, event in enumerate(events):
        event.update(id=index, timestamp=T0)

    found = {(m.rule_id, m.event_indexes) for m in select(events, TYPED_RULES).matches}

    assert found == {
        (rule.rule_id, (index,))
        for rule in TYPED_RULES
        for index, event in enumerate(events)
        if rule.matches(event)
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "event_type": st.sampled_from(["auth.failure", "proc.start"]),
                "severity": st.sampled_from(["low", "high"]),
                "source_ip": st.sampled_from(["10.0.0.1", "10.0.0.2"]),
                "source": st.sampled_from(["fw", "edr"]),
            },
            optional={"username": st.sampled_from(["root", "alice"])},
        ),
        max_size=12,
    ),
    st.data(),
)
def test_a_selection_kept_for_some_events_is_their_own_selection(events, data):
    """Ingestion selects before it knows which ids are stored already, then keeps the
    selection of the new events instead of selecting again."""
    for index, event in enumerate(events):
        event.update(id=index, timestamp=T0)
    kept = sorted(
        data.draw(st.sets(st.sampled_from(range(len(events)))) if events else st.just(set()))
    )

    narrowed = select(events, RULES).only(kept)
    again = select([events[i] for i in kept], RULES)

    assert set(narrowed.matches) == set(again.matches)
    assert narrowed.new_hits == again.new_hits
    assert narrowed.lookup_ranges() == again.lookup_ranges()
