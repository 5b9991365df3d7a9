"""Condition trees: all/any/not, and every invalid shape names the path of the bad node."""

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import RuleSyntaxError, compile_rule, parse_threshold
from secalerts.detection.conditions import Columns, compile_condition

FAIL = {"field": "event_type", "op": "eq", "value": "auth.failure"}
ROOT = {"field": "username", "op": "eq", "value": "root"}


@pytest.mark.parametrize(
    ("condition", "event", "expected"),
    [
        ({"all": [FAIL, ROOT]}, {"event_type": "auth.failure", "username": "root"}, True),
        ({"all": [FAIL, ROOT]}, {"event_type": "auth.failure", "username": "bob"}, False),
        ({"any": [FAIL, ROOT]}, {"username": "root"}, True),
        ({"any": [FAIL, ROOT]}, {}, False),
        ({"not": ROOT}, {"username": "bob"}, True),
        ({"not": ROOT}, {}, True),  # not(no match) on a missing field
        ({"all": [FAIL, {"not": {"any": [ROOT, {"field": "source", "op": "eq", "value": "x"}]}}]},
         {"event_type": "auth.failure", "source": "y", "username": "bob"}, True),
    ],
)  # fmt: skip
def test_composition(condition, event, expected):
    assert compile_rule(condition).matches(event) is expected


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ("event_type == x", "condition"),
        ([FAIL], "condition"),
        ({}, "condition"),
        ({"all": []}, "condition.all"),
        ({"any": FAIL}, "condition.any"),
        ({"all": [FAIL], "any": [FAIL]}, "condition"),
        ({"not": []}, "condition.not"),
        ({"any": [FAIL, {"not": {"field": "x", "op": "eq", "value": 1}}]}, "condition.any[1].not.field"),
        ({"any": [FAIL, {"not": {"field": "source", "op": "like", "value": 1}}]}, "condition.any[1].not.op"),
        ({"field": "source", "op": "eq"}, "condition.value"),
        ({"op": "eq", "value": 1}, "condition.field"),
        ({"field": "source", "op": "eq", "value": 1, "extra": 1}, "condition.extra"),
        ({"field": "source", "op": "eq", "value": [1]}, "condition.value"),
        ({"field": "source", "op": "in", "value": []}, "condition.value"),
        ({"field": "source", "op": "in", "value": ["a", {}]}, "condition.value[1]"),
        ({"field": "source", "op": "regex", "value": "(unclosed"}, "condition.value"),
        ({"field": "source", "op": "regex", "value": "a" * 1001}, "condition.value"),
        ({"field": "source", "op": "cidr", "value": "10.0.0.0/33"}, "condition.value"),
        ({"field": "source", "op": "cidr", "value": ["10.0.0.0/8", 5]}, "condition.value[1]"),
        ({"field": "source", "op": "gt", "value": True}, "condition.value"),
        ({"field": "source", "op": "exists", "value": "yes"}, "condition.value"),
        ({"field": "source", "op": "eq", "value": "a", "ignore_case": "yes"}, "condition.ignore_case"),
        ({"field": "data..x", "op": "eq", "value": 1}, "condition.field"),
        ({"field": "source.x", "op": "eq", "value": 1}, "condition.field"),
        ({"field": 5, "op": "eq", "value": 1}, "condition.field"),
    ],
)  # fmt: skip
def test_invalid_conditions_name_the_bad_node(condition, path):
    with pytest.raises(RuleSyntaxError) as raised:
        compile_rule(condition)

    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: ")


def test_depth_and_size_limits():
    deep: Mapping[str, object] = ROOT
    for _ in range(40):
        deep = {"not": deep}
    wide = {"any": [ROOT] * 1001}

    with pytest.raises(RuleSyntaxError, match="deeper"):
        compile_rule(deep)
    with pytest.raises(RuleSyntaxError, match="nodes"):
        compile_rule(wide)


@pytest.mark.parametrize(
    ("group_by", "path"),
    [(["nope"], "group_by[0]"), (["source", "source"], "group_by"), ("source", "group_by")],
)
def test_invalid_group_by(group_by, path):
    with pytest.raises(RuleSyntaxError) as raised:
        compile_rule(ROOT, group_by=group_by)

    assert raised.value.path == path


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ([5, 60], "threshold"),
        ({"count": 5}, "threshold"),
        ({"count": 0, "window_seconds": 60}, "threshold.count"),
        ({"count": True, "window_seconds": 60}, "threshold.count"),
        ({"count": 5, "window_seconds": -1}, "threshold.window_seconds"),
        ({"count": 5, "window_seconds": 1.5}, "threshold.window_seconds"),
        ({"count": 5, "window_seconds": 60, "distinct_field": "nope"}, "threshold.distinct_field"),
        ({"count": 5, "window_seconds": 60, "by": "x"}, "threshold.by"),
    ],
)
def test_invalid_thresholds(raw, path):
    with pytest.raises(RuleSyntaxError) as raised:
        parse_threshold(raw)

    assert raised.value.path == path


# Values of every JSON type, and absent fields: each operator meets wrong types too.
ANY_VALUE = st.sampled_from(
    ["root", "Root", "alice", "10.1.2.3", "2001:db8::1", "x root y", "", 0, 1, 2.5, True, None,
     ["root"], {"a": 1}]
)  # fmt: skip
LEAVES = st.one_of(
    st.builds(
        lambda field, op, value, fold: {"field": field, "op": op, "value": value, "ignore_case": fold},
        st.sampled_from(["username", "source", "data.a", "data.a.b"]),
        st.sampled_from(["eq", "ne", "contains", "startswith", "endswith"]),
        st.sampled_from(["root", "Root", "x"]),
        st.booleans(),
    ),
    st.builds(
        lambda field, op, value: {"field": field, "op": op, "value": value},
        st.sampled_from(["username", "destination_port", "data.a"]),
        st.sampled_from(["eq", "ne"]),
        st.sampled_from([1, 2.5, "m", None, True]),
    ),
    st.builds(
        lambda field, op, value: {"field": field, "op": op, "value": value},
        st.sampled_from(["username", "destination_port", "data.a"]),
        st.sampled_from(["gt", "lte"]),
        st.sampled_from([1, 2.5, "m"]),
    ),
    st.fixed_dictionaries(
        {"field": st.sampled_from(["username", "data.a"]), "op": st.just("in"),
         "value": st.lists(st.sampled_from(["root", 1, None, True]), min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries(
        {"field": st.sampled_from(["source_ip", "username"]), "op": st.just("cidr"),
         "value": st.sampled_from(["10.0.0.0/8", "2001:db8::/32"])}
    ),
    st.fixed_dictionaries(
        {"field": st.sampled_from(["username", "data.a", "message"]), "op": st.just("regex"),
         "value": st.sampled_from(["^r", "oo", "[0-9]"])}
    ),
    st.fixed_dictionaries(
        {"field": st.sampled_from(["username", "data.a"]), "op": st.just("exists"),
         "value": st.booleans()}
    ),
)  # fmt: skip
CONDITIONS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=8,
)
EVENTS = st.lists(
    st.dictionaries(
        st.sampled_from(["username", "source", "source_ip", "destination_port", "message"]),
        ANY_VALUE,
    ).flatmap(
        lambda event: st.one_of(
            st.just(event),
            st.builds(lambda a: event | {"data": {"a": a}}, ANY_VALUE),
            st.builds(lambda b: event | {"data": {"a": {"b": b}}}, ANY_VALUE),
        )
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(CONDITIONS, EVENTS, st.data())
def test_a_batch_selects_exactly_the_events_the_condition_matches(condition, events, data):
    """The batch form reads each field once for all events and narrows the candidates
    leaf by leaf; over any candidates it keeps exactly those the per-event form matches."""
    compiled = compile_condition(condition)
    candidates = sorted(data.draw(st.sets(st.integers(0, len(events) - 1))) if events else set())

    selected = compiled.select(Columns(events), candidates)

    assert selected == [i for i in candidates if compiled.matches(events[i])]
