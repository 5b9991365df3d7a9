"""Every operator: matches, misses, missing fields, wrong types. Pure, no database."""

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import RuleSyntaxError, compile_rule
from secalerts.detection.conditions import Columns, compile_condition
from secalerts.detection.operators import op_cidr, op_regex

MISSING = object()


@pytest.mark.parametrize(
    ("op", "value", "actual", "expected"),
    [
        ("eq", "root", "root", True),
        ("eq", "root", "Root", False),
        ("eq", 5, 5.0, True),
        ("eq", 1, True, False),  # a boolean is not a number
        ("eq", True, 1, False),
        ("eq", True, True, True),
        ("eq", None, None, True),
        ("eq", "5", 5, False),
        ("eq", "x", MISSING, False),
        ("ne", "root", "admin", True),
        ("ne", "root", "root", False),
        ("ne", "root", 5, False),  # wrong type never matches, not even ne
        ("ne", "root", None, False),
        ("ne", "root", MISSING, False),
        ("ne", None, "x", True),
        ("ne", None, None, False),
        ("in", ["a", "b"], "b", True),
        ("in", ["a", 1], 1.0, True),
        ("in", [1, 2], True, False),
        ("in", ["a"], ["a"], False),
        ("in", [None, "a"], None, True),
        ("contains", "pass", "bad password", True),
        ("contains", "pass", ["x", "pass"], True),
        ("contains", "pass", ["password"], False),
        ("contains", "1", 100, False),
        ("startswith", "win.", "win.sysmon.10", True),
        ("startswith", "win.", "linux.x", False),
        ("endswith", "\\lsass.exe", "C:\\Windows\\System32\\lsass.exe", True),
        ("endswith", ".exe", None, False),
        ("regex", r"^\d{3}$", "123", True),
        ("regex", r"^\d{3}$", "1234", False),
        ("regex", "a", 1, False),
        ("regex", "(?i)^root$", "ROOT", True),  # inline flags, as shipped rules use them
        ("regex", "(?i:r)oot", "Root", True),
        ("regex", "(?P<user>ro+t)", "root", True),
        ("regex", "^root$", "root\n", False),  # RE2's $ is the end of the text
        ("regex", "ro+t", "\ud800root", True),  # a lone surrogate is no UTF-8: still read
        ("gt", 5, 6, True),
        ("gt", 5, 5, False),
        ("gte", 5, 5, True),
        ("lt", 5, 4.5, True),
        ("lte", 5, 6, False),
        ("gt", 5, "6", False),
        ("gt", 5, True, False),
        ("gte", 5, None, False),  # missing or null never matches
        ("gt", "2020-01-01", "2021-06-01", True),
        ("gt", "a", 1, False),
        ("gt", 0, float("nan"), False),
        ("gt", 0, 10**400, True),
        ("cidr", "10.0.0.0/8", "10.2.3.4", True),
        ("cidr", "10.0.0.0/8", "192.168.1.1", False),
        ("cidr", "2001:db8::/32", "2001:db8::1", True),
        ("cidr", "10.0.0.0/8", "2001:db8::1", False),
        ("cidr", ["192.168.0.0/16", "10.0.0.0/8"], "10.9.9.9", True),
        ("cidr", "10.0.0.0/8", "not-an-ip", False),
        ("cidr", "10.0.0.0/8", 167772161, False),
        ("exists", True, "x", True),
        ("exists", True, None, False),
        ("exists", True, MISSING, False),
        ("exists", False, MISSING, True),
        ("exists", False, 0, False),
    ],
)
def test_operator(op, value, actual, expected):
    rule = compile_rule({"field": "username", "op": op, "value": value})
    event = {} if actual is MISSING else {"username": actual}

    assert rule.matches(event) is expected


@pytest.mark.parametrize(
    ("op", "value", "actual"),
    [
        ("eq", "ROOT", "root"),
        ("ne", "ROOT", "admin"),
        ("in", ["ADMIN", "ROOT"], "Root"),
        ("contains", "PASS", "bad password"),
        ("startswith", "C:\\WINDOWS", "c:\\windows\\temp"),
        ("endswith", "\\LSASS.EXE", "C:\\Windows\\lsass.exe"),
        ("regex", "^ROOT$", "root"),
        ("regex", "^ÉTÉ$", "été"),
    ],
)
def test_ignore_case(op, value, actual):
    rule = compile_rule({"field": "username", "op": op, "value": value, "ignore_case": True})

    assert rule.matches({"username": actual})


def test_nested_quantifiers_answer_in_linear_time(hang_guard):
    """A backtracking engine needs time exponential in the run of a's to fail this."""
    condition = {"field": "message", "op": "regex", "value": "^(a+)+$"}
    events = [{"message": "a" * 40 + "!"}, {"message": "a" * 40}]

    with hang_guard(60):
        one = [compile_rule(condition).matches(event) for event in events]
        batch = compile_condition(condition).select(Columns(events), [0, 1])

    assert one == [False, True]
    assert batch == [1]


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a)\1",  # backreference
        r"(?P<x>a)(?P=x)",
        "(?=a)",  # lookahead
        "(?!a)b",
        "(?<=a)b",  # lookbehind
        "(?<!a)b",
        "a++",  # possessive
        "(?>a+)b",  # atomic group
        r"a\Z",  # RE2 spells it \z
        "\ud800",  # no UTF-8 form
    ],
)
def test_patterns_outside_re2_are_refused_naming_the_leaf(pattern):
    condition = {"field": "message", "op": "regex", "value": pattern}

    with pytest.raises(RuleSyntaxError) as raised:
        compile_rule({"any": [{"field": "source", "op": "eq", "value": "x"}, condition]})

    assert raised.value.path == "condition.any[1].value"
    assert raised.value.message.startswith("regex is not valid")


PIECES = st.sampled_from(["a", "B", "é", "É", "[ab]", "[^a]", ".", "(?:a|B)", "x"])
REPEATS = st.sampled_from(["", "?", "*", "+", "{1,2}"])
COMMON_PATTERNS = st.tuples(
    st.sampled_from(["", "^", "(?i)", "(?i)^"]),
    st.lists(st.tuples(PIECES, REPEATS).map("".join), min_size=1, max_size=4).map("".join),
    st.sampled_from(["", "$"]),
).map("".join)


@settings(max_examples=300, deadline=None)
@given(COMMON_PATTERNS, st.text(alphabet="aAbBéÉx!", max_size=8), st.booleans())
def test_regex_means_what_python_re_means_on_the_common_syntax(pattern, text, ignore_case):
    """Rules written for Python's re keep their meaning, ignore_case and (?i) included
    (on text without newlines: RE2's $ is the end of the text only)."""
    expected = re.search(pattern, text, re.IGNORECASE if ignore_case else 0) is not None

    assert op_regex(pattern, ignore_case, "value")(text) is expected


@pytest.mark.parametrize(
    ("field", "event", "expected"),
    [
        ("data.process.name", {"data": {"process": {"name": "cmd.exe"}}}, True),
        ("data.process.name", {"data": {"process": "cmd.exe"}}, False),
        ("data.process.name", {"data": {"process": [{"name": "cmd.exe"}]}}, False),
        ("data.process.name", {"data": None}, False),
        ("data.process.name", {}, False),
    ],
)
def test_dotted_paths_into_data(field, event, expected):
    rule = compile_rule({"field": field, "op": "eq", "value": "cmd.exe"})

    assert rule.matches(event) is expected


@settings(max_examples=500, deadline=None)
@given(
    st.ip_addresses(),
    st.lists(st.ip_addresses().flatmap(lambda a: st.tuples(st.just(a), st.integers(0, a.max_prefixlen))), min_size=1, max_size=3),
)  # fmt: skip
def test_cidr_answers_as_the_standard_library_does(address, networks):
    texts = [f"{network}/{prefix}" for network, prefix in networks]

    expected = any(address in ipaddress.ip_network(text, strict=False) for text in texts)

    assert op_cidr(texts, False, "value")(str(address)) is expected
