"""Compiled rules agree with a naive reference evaluator on random conditions and events."""

import ipaddress
from datetime import UTC, datetime

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import compile_rule

FIELDS = ["username", "source_ip", "destination_port", "data.a", "data.a.b"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(["", "a", "ab", "B", "10.0.0.1", "::1"])
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from("ab"), c, max_size=2),
    max_leaves=6,
)

MISSING = object()


def lookup(event: dict, field: str):
    top, *rest = field.split(".")
    value = event.get(top, MISSING)
    for part in rest:
        value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
    return value


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    return "str" if isinstance(value, str) else "other"


def reference(node: dict, event: dict) -> bool:
    """Written from DESIGN.md, independently of the engine: slow and obvious."""
    if "all" in node:
        return all(reference(child, event) for child in node["all"])
    if "any" in node:
        return any(reference(child, event) for child in node["any"])
    if "not" in node:
        return not reference(node["not"], event)
    actual, op, value = lookup(event, node["field"]), node["op"], node["value"]
    if op == "exists":
        present = actual is not MISSING and actual is not None
        return present if value else not present
    if actual is MISSING:
        return False
    if op == "ne" and value is None:
        return actual is not None  # "is not null": any present value
    if op in {"eq", "ne"}:
        if kind(actual) != kind(value):
            return False
        return (actual == value) if op == "eq" else (actual != value)
    if op == "in":
        return any(kind(actual) == kind(v) and actual == v for v in value)
    if op == "contains":
        if isinstance(actual, list):
            return value in [x for x in actual if isinstance(x, str)]
        return isinstance(actual, str) and value in actual
    if op in {"startswith", "endswith", "regex"}:
        if not isinstance(actual, str):
            return False
        if op == "regex":
            return re2.search(value, actual) is not None  # DESIGN.md: RE2, not backtracking
        return actual.startswith(value) if op == "startswith" else actual.endswith(value)
    if op in {"gt", "gte", "lt", "lte"}:
        if kind(actual) != kind(value) or kind(value) not in {"num", "str"}:
            return False
        return {
            "gt": actual > value,
            "gte": actual >= value,
            "lt": actual < value,
            "lte": actual <= value,
        }[op]
    if op == "cidr":
        try:
            address = ipaddress.ip_address(actual) if isinstance(actual, str) else None
        except ValueError:
            return False
        return (
            address is not None
            and address.version == ipaddress.ip_network(value).version
            and address in ipaddress.ip_network(value)
        )
    raise AssertionError(op)


leaves = st.one_of(
    st.builds(
        lambda f, op, v: {"field": f, "op": op, "value": v},
        st.sampled_from(FIELDS),
        st.sampled_from(["eq", "ne"]),
        scalars,
    ),
    st.builds(
        lambda f, v: {"field": f, "op": "in", "value": v},
        st.sampled_from(FIELDS),
        st.lists(scalars, min_size=1, max_size=3),
    ),
    st.builds(
        lambda f, op, v: {"field": f, "op": op, "value": v},
        st.sampled_from(FIELDS),
        st.sampled_from(["contains", "startswith", "endswith", "regex"]),
        st.sampled_from(["a", "b", "^a", "0"]),
    ),
    st.builds(
        lambda f, v: {"field": f, "op": "regex", "value": v},
        st.sampled_from(FIELDS),
        st.sampled_from(["(?i)b", "^(a+)+$", "a$|^B", r"\d", "(?:ab|::)"]),
    ),
    st.builds(
        lambda f, op, v: {"field": f, "op": op, "value": v},
        st.sampled_from(FIELDS),
        st.sampled_from(["gt", "gte", "lt", "lte"]),
        st.integers(-3, 3) | st.sampled_from(["a", "b"]),
    ),
    st.builds(
        lambda f, v: {"field": f, "op": "cidr", "value": v},
        st.sampled_from(FIELDS),
        st.sampled_from(["10.0.0.0/8", "::/0"]),
    ),
    st.builds(
        lambda f, v: {"field": f, "op": "exists", "value": v},
        st.sampled_from(FIELDS),
        st.booleans(),
    ),
)
conditions = st.recursive(
    leaves,
    lambda c: (
        st.builds(lambda xs: {"all": xs}, st.lists(c, min_size=1, max_size=3))
        | st.builds(lambda xs: {"any": xs}, st.lists(c, min_size=1, max_size=3))
        | st.builds(lambda x: {"not": x}, c)
    ),
    max_leaves=6,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "username": json_values,
        "source_ip": json_values,
        "destination_port": json_values,
        "data": json_values,
    },
)


@settings(max_examples=500, deadline=None)
@given(conditions, events)
def test_compiled_rules_agree_with_the_reference(condition, event):
    event["timestamp"] = datetime(2026, 1, 1, tzinfo=UTC)

    assert compile_rule(condition).matches(event) is reference(condition, event)
