"""Condition trees: all/any/not, and every invalid shape names the path of the bad node."""

import pytest

from secalerts.detection import RuleSyntaxError, compile_rule, parse_threshold

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
    deep = ROOT
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
