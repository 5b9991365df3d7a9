"""Sigma semantics, modifier by modifier: a detection compiled, then run on events."""

import textwrap

import pytest
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule

from secalerts import detection
from secalerts.sigma import compiler

SYSMON = compiler.Target(event_types=("win.sysmon.1",), field_prefix="data.")


def compile_detection(body: str, targets=(SYSMON,)) -> dict:
    text = "title: t\nlogsource: {product: windows, category: process_creation}\n"
    text += "detection:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    (rule,) = SigmaCollection.from_yaml(text, collect_errors=True).rules
    assert isinstance(rule, SigmaRule)
    if rule.errors:
        raise compiler.Unsupported(str(rule.errors[0]))
    condition = compiler.compile_condition(rule, list(targets), "windows/process_creation/-")
    compiler.check(condition)
    return condition


def fires(body: str, event_data: dict, *, event_type="win.sysmon.1", **event) -> bool:
    compiled = detection.compile_rule(compile_detection(body))
    return compiled.matches({"event_type": event_type, "data": event_data, **event})


@pytest.mark.parametrize(
    ("value", "actual", "expected"),
    [
        ("cmd.exe", "cmd.exe", True),
        ("cmd.exe", "CMD.EXE", True),  # case-insensitive
        ("cmd.exe", "xcmd.exe", False),  # whole value
        ("*cmd*", "a CMD b", True),
        ("cmd*", "cmd.exe /c", True),
        ("cmd*", "x cmd", False),
        ("*.exe", "C:\\a.EXE", True),
        ("c?d", "cmd", True),
        ("c?d", "cmmd", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXbYYcd", False),
        ("a*b*c", "a\nb\nc", True),  # * spans newlines
        ("a\\*b", "a*b", True),  # escaped wildcard: a literal star
        ("a\\*b", "aXb", False),
        ("a\\?b", "a?b", True),
        ("a\\?b", "axb", False),
        ("C:\\Windows\\", "c:\\windows\\", True),  # trailing backslash is literal
        ("1.2(3)+[x]", "1.2(3)+[X]", True),  # regex metacharacters in a wildcard pattern
        ("ÄRGER*", "ärger und", True),  # unicode case folding
        ("İ", "i̇", True),
        ("*", "anything", True),
    ],
)
def test_strings_match_whole_values_case_insensitively_with_wildcards(value, actual, expected):
    body = f"sel:\n  F: '{value}'\ncondition: sel\n"
    assert fires(body, {"F": actual}) is expected


def test_plain_string_compiles_to_an_indexable_case_insensitive_literal():
    condition = compile_detection("sel:\n  Image: ['a.exe', 'B.EXE']\ncondition: sel\n")

    assert condition == {
        "all": [
            {"field": "event_type", "op": "eq", "value": "win.sysmon.1"},
            {"field": "data.Image", "op": "in", "value": ["a.exe", "B.EXE"], "ignore_case": True},
        ]
    }


@pytest.mark.parametrize(
    ("modifier", "op"),
    [("contains", "contains"), ("startswith", "startswith"), ("endswith", "endswith")],
)
def test_position_modifiers_compile_to_our_string_operators(modifier, op):
    condition = compile_detection(f"sel:\n  F|{modifier}: 'x'\ncondition: sel\n")

    assert condition["all"][1] == {"field": "data.F", "op": op, "value": "x", "ignore_case": True}


def test_numbers_match_numbers_and_their_text_but_not_other_types():
    body = "sel:\n  EventID: 4688\ncondition: sel\n"
    assert fires(body, {"EventID": 4688})
    assert fires(body, {"EventID": "4688"})
    assert not fires(body, {"EventID": 4689})
    assert not fires(body, {"EventID": True})


def test_a_quoted_number_is_a_string():
    body = "sel:\n  F: '0x10'\ncondition: sel\n"
    assert fires(body, {"F": "0X10"})
    assert not fires(body, {"F": 16})


def test_null_means_absent_or_null():
    body = "sel:\n  F: null\ncondition: sel\n"
    assert fires(body, {})
    assert fires(body, {"F": None})
    assert not fires(body, {"F": ""})


def test_lists_are_or_and_all_is_and():
    assert fires("sel:\n  F|contains: [a, b]\ncondition: sel\n", {"F": "xbx"})
    assert not fires("sel:\n  F|contains|all: [a, b]\ncondition: sel\n", {"F": "xbx"})
    assert fires("sel:\n  F|contains|all: [a, b]\ncondition: sel\n", {"F": "bxa"})


def test_maps_are_and_and_a_list_of_maps_is_or():
    body = "sel:\n  - {A: 1, B: 2}\n  - {C: 3}\ncondition: sel\n"
    assert fires(body, {"A": 1, "B": 2})
    assert not fires(body, {"A": 1})
    assert fires(body, {"C": 3})


def test_regex_is_an_unanchored_case_sensitive_search_with_flags():
    assert fires("sel:\n  F|re: 'b+c'\ncondition: sel\n", {"F": "abbbcd"})
    assert not fires("sel:\n  F|re: 'B+C'\ncondition: sel\n", {"F": "abbbcd"})
    assert fires("sel:\n  F|re|i: 'B+C'\ncondition: sel\n", {"F": "abbbcd"})
    assert fires("sel:\n  F|re|m: '^b$'\ncondition: sel\n", {"F": "a\nb\nc"})
    assert not fires("sel:\n  F|re: '^b$'\ncondition: sel\n", {"F": "a\nb\nc"})
    assert fires("sel:\n  F|re|s: 'a.b'\ncondition: sel\n", {"F": "a\nb"})
    assert not fires("sel:\n  F|re: 'a.b'\ncondition: sel\n", {"F": "a\nb"})


@pytest.mark.parametrize("pattern", ["(a)\\1", "a(?=b)", "(?<!x)y"])
def test_a_regex_re2_refuses_skips_the_rule(pattern):
    with pytest.raises(compiler.Unsupported, match=r"invalid|RE2"):
        compile_detection(f"sel:\n  F|re: '{pattern}'\ncondition: sel\n")


def test_cidr():
    body = "sel:\n  DestinationIp|cidr: ['10.0.0.0/8', 'fd00::/8']\ncondition: sel\n"
    assert fires(body, {"DestinationIp": "10.1.2.3"})
    assert fires(body, {"DestinationIp": "fd00::1"})
    assert not fires(body, {"DestinationIp": "11.0.0.1"})


def test_base64_utf16_wide_and_windash_expand_to_alternatives():
    assert fires("sel:\n  F|base64: 'abc'\ncondition: sel\n", {"F": "YWJj"})
    assert fires(
        "sel:\n  F|base64offset|contains: 'hello'\ncondition: sel\n", {"F": "xx aGVsbG8 yy"}
    )
    assert fires(
        "sel:\n  F|wide|base64offset|contains: 'ping'\ncondition: sel\n",
        {"F": "powershell -enc cABpAG4AZwA="},
    )
    body = "sel:\n  CommandLine|windash|contains: ' -enc '\ncondition: sel\n"
    assert fires(body, {"CommandLine": "powershell /enc AAA"})
    assert fires(body, {"CommandLine": "powershell \u2013enc AAA"})
    assert not fires(body, {"CommandLine": "powershell enc AAA"})


def test_utf16le_modifier():
    assert fires("sel:\n  F|utf16le|base64: 'ab'\ncondition: sel\n", {"F": "YQBiAA=="})


def test_exists():
    assert fires("sel:\n  F|exists: true\ncondition: sel\n", {"F": ""})
    assert not fires("sel:\n  F|exists: true\ncondition: sel\n", {})
    assert fires("sel:\n  F|exists: false\ncondition: sel\n", {})


@pytest.mark.parametrize(
    ("modifier", "actual", "expected"),
    [("gt", 5, True), ("gt", 4, False), ("gte", 4, True), ("lt", 3, True), ("lte", 5, False)],
)
def test_comparisons(modifier, actual, expected):
    assert fires(f"sel:\n  N|{modifier}: 4\ncondition: sel\n", {"N": actual}) is expected


def test_fieldref_compares_two_fields_of_the_event():
    body = "sel:\n  ParentImage|fieldref: Image\ncondition: sel\n"
    condition = compile_detection(body)
    assert condition["all"][1] == {
        "field": "data.ParentImage",
        "op": "eq_field",
        "value": "data.Image",
        "ignore_case": True,
    }
    assert fires(body, {"Image": "C:\\a.exe", "ParentImage": "c:\\A.exe"})
    assert not fires(body, {"Image": "C:\\a.exe", "ParentImage": "C:\\b.exe"})
    assert not fires(body, {"ParentImage": "C:\\b.exe"})


def test_cased_modifier_is_case_sensitive():
    assert fires("sel:\n  F|cased: 'AbC'\ncondition: sel\n", {"F": "AbC"})
    assert not fires("sel:\n  F|cased: 'AbC'\ncondition: sel\n", {"F": "abc"})


def test_expand_placeholders_are_skipped():
    with pytest.raises(compiler.Unsupported, match="placeholders"):
        compile_detection("sel:\n  F|expand: '%admins%'\ncondition: sel\n")


def test_keywords_search_the_message():
    body = "keywords:\n  - 'evil thing'\n  - 'bad*act'\ncondition: keywords\n"
    assert fires(body, {}, message="an EVIL THING happened")
    assert fires(body, {}, message="a bad, bad act")
    assert not fires(body, {}, message="nothing")


def test_conditions_and_or_not_parentheses_and_quantifiers():
    body = """
    sel_a: {A: 1}
    sel_b: {B: 2}
    filter: {C: 3}
    condition: (1 of sel_*) and not filter
    """
    assert fires(body, {"B": 2})
    assert not fires(body, {"B": 2, "C": 3})
    assert not fires(body, {"D": 4})
    body = "sel_a: {A: 1}\nsel_b: {B: 2}\ncondition: all of them\n"
    assert fires(body, {"A": 1, "B": 2})
    assert not fires(body, {"A": 1})


def test_a_rule_sees_only_events_of_its_logsource():
    assert not fires("sel:\n  F: x\ncondition: sel\n", {"F": "x"}, event_type="win.sysmon.3")


def test_targets_with_other_field_names_and_fields_they_lack():
    security = compiler.Target(
        event_types=("win.security.4688",), fields={"Image": "data.NewProcessName"}
    )
    both = compile_detection(
        "sel:\n  Image|endswith: '\\x.exe'\ncondition: sel\n", [SYSMON, security]
    )
    compiled = detection.compile_rule(both)
    assert compiled.matches({"event_type": "win.sysmon.1", "data": {"Image": "C:\\x.exe"}})
    assert compiled.matches(
        {"event_type": "win.security.4688", "data": {"NewProcessName": "C:\\x.exe"}}
    )
    assert not compiled.matches({"event_type": "win.security.4688", "data": {"Image": "C:\\x.exe"}})
    assert compiled.event_types == frozenset({"win.sysmon.1", "win.security.4688"})
    # A rule naming a field 4688 does not have only sees Sysmon events.
    only_sysmon = compile_detection(
        "sel:\n  OriginalFileName: x.exe\ncondition: sel\n", [SYSMON, security]
    )
    assert only_sysmon["all"][0] == {"field": "event_type", "op": "eq", "value": "win.sysmon.1"}
    with pytest.raises(compiler.Unsupported, match="not available"):
        compile_detection("sel:\n  OriginalFileName: x.exe\ncondition: sel\n", [security])


@pytest.mark.parametrize(
    ("level", "severity"),
    [("informational", "info"), ("low", "low"), ("high", "high"), ("critical", "critical")],
)
def test_level_maps_to_severity(level, severity):
    text = f"title: t\nlevel: {level}\nlogsource: {{product: windows}}\n"
    text += "detection: {sel: {A: 1}, condition: sel}\n"
    (rule,) = SigmaCollection.from_yaml(text).rules
    assert compiler.severity_of(rule.level) == severity


def test_neq_modifier():
    body = "sel:\n  F|neq: 'a'\ncondition: sel\n"
    assert fires(body, {"F": "b"})
    assert not fires(body, {"F": "A"})
