"""The literal index: which literals a rule needs, and that running each rule only over
the events holding one of them selects exactly what running every rule over every event
selects."""

import random
import warnings
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.detection import SelectStats, Threshold, compile_rule, index_rules, select
from secalerts.detection.literals import requirement

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def leaf(field, op, value, ignore_case=True):
    return {"field": field, "op": op, "value": value, "ignore_case": ignore_case}


IMAGE_CMD = leaf("data.Image", "endswith", "\\CMD.exe")
LINE_WHOAMI = leaf("data.CommandLine", "contains", "whoami", ignore_case=False)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (IMAGE_CMD, {("data.Image", "suffix", "\\cmd.exe")}),
        (LINE_WHOAMI, {("data.CommandLine", "contains", "whoami")}),
        (leaf("username", "startswith", "Adm"), {("username", "prefix", "adm")}),
        (leaf("username", "eq", "Straße"), {("username", "eq", "strasse")}),
        (leaf("username", "in", ["A", "b"]), {("username", "eq", "a"), ("username", "eq", "b")}),
        (leaf("username", "eq", ""), {("username", "eq", "")}),
        # Nothing a literal can stand for: every text holds "", a list may hold null...
        (leaf("username", "contains", ""), None),
        (leaf("username", "startswith", ""), None),
        (leaf("username", "in", ["a", None]), None),
        (leaf("destination_port", "eq", 22), None),
        (leaf("username", "regex", "^root$"), {("username", "contains", "root")}),
        (leaf("username", "regex", "(?i)echo.*clip(?:board|x)"), {("username", "contains", "echo")}),
        (leaf("username", "regex", ".{0,5}(?:/c|-R).+"), {("username", "contains", "/c"),
                                                             ("username", "contains", "-r")}),
        (leaf("username", "regex", "(?:ab)?x|y+"), {("username", "contains", "x"),
                                                    ("username", "contains", "y")}),
        (leaf("username", "regex", "ab[^c]d"), {("username", "contains", "ab")}),
        (leaf("username", "regex", "a*|b"), None),
        (leaf("username", "regex", "[[:alpha:]]]"), None),  # RE2's POSIX class, not Python's
        (leaf("username", "regex", "\\Qa.b\\E"), None),
        (leaf("username", "ne", "root"), None),
        (leaf("username", "exists", True), None),
        ({"not": IMAGE_CMD}, None),
        # any: every child must name literals; all: the cheapest child's are enough.
        ({"any": [IMAGE_CMD, LINE_WHOAMI]},
         {("data.Image", "suffix", "\\cmd.exe"), ("data.CommandLine", "contains", "whoami")}),
        ({"any": [IMAGE_CMD, {"not": LINE_WHOAMI}]}, None),
        ({"all": [{"not": LINE_WHOAMI}, IMAGE_CMD]}, {("data.Image", "suffix", "\\cmd.exe")}),
        ({"all": [leaf("data.CommandLine", "contains", " -e"),
                  leaf("data.OriginalFileName", "eq", "PowerShell.EXE")]},
         {("data.OriginalFileName", "eq", "powershell.exe")}),
        ({"all": [leaf("data.Image", "in", ["\\a.exe", "\\b.exe", "\\c.exe", "\\d.exe"]),
                  leaf("data.CommandLine", "contains", "-encodedcommand")]},
         {("data.CommandLine", "contains", "-encodedcommand")}),
        ({"all": [{"any": [IMAGE_CMD, leaf("data.OriginalFileName", "eq", "Cmd.Exe")]},
                  {"not": {"any": [LINE_WHOAMI]}}]},
         {("data.Image", "suffix", "\\cmd.exe"), ("data.OriginalFileName", "eq", "cmd.exe")}),
        # A Sigma rule of two logsources: each branch's text, not its event type.
        ({"any": [{"all": [leaf("event_type", "in", ["win.sysmon.1"]), IMAGE_CMD]},
                  {"all": [leaf("event_type", "eq", "win.security.4688"), LINE_WHOAMI]}]},
         {("data.Image", "suffix", "\\cmd.exe"), ("data.CommandLine", "contains", "whoami")}),
        ({"all": [leaf("event_type", "eq", "a"), leaf("destination_port", "eq", 22)]},
         {("event_type", "eq", "a")}),
    ],
)  # fmt: skip
def test_requirement(condition, expected):
    assert requirement(condition) == (None if expected is None else frozenset(expected))


def test_patterns_python_reads_otherwise_name_no_literal_whatever_the_warning_filters():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in a server, where FutureWarning is no error

        assert requirement(leaf("username", "regex", "[[:alpha:]]]")) is None


def test_a_rule_requires_the_literals_of_its_condition_less_the_event_type():
    rule = compile_rule(
        {"all": [leaf("event_type", "in", ["win.sysmon.1"], ignore_case=False), IMAGE_CMD]}
    )
    bare = compile_rule({"field": "event_type", "op": "eq", "value": "win.sysmon.1"})
    untyped = compile_rule({"any": [leaf("event_type", "eq", "x"), IMAGE_CMD]})

    assert rule.requirement == frozenset([("data.Image", "suffix", "\\cmd.exe")])
    assert bare.requirement is None  # every event of its type matches
    assert untyped.requirement == frozenset(
        {("event_type", "eq", "x"), ("data.Image", "suffix", "\\cmd.exe")}
    )


def found(events, index, stats=None):
    selection = select(events, index, stats)
    return (
        [(m.rule_id, m.event_indexes) for m in selection.matches],
        {ref: [i for i, _ in hits] for ref, hits in selection.new_hits.items()},
    )


def test_each_event_meets_only_the_rules_whose_literals_it_holds():
    rules = [
        compile_rule({"all": [leaf("event_type", "eq", "p", False),
                              leaf("data.Image", "endswith", f"\\tool{n}.exe")]}, rule_id=n)
        for n in range(40)
    ] + [compile_rule({"all": [leaf("event_type", "eq", "p", False),
                               {"not": leaf("data.Image", "contains", "windows")}]}, rule_id="x")]  # fmt: skip
    events = [
        {"timestamp": T0, "event_type": "p", "data": {"Image": "C:\\TOOL7.EXE"}},
        {"timestamp": T0, "event_type": "p", "data": {"Image": "C:\\Windows\\tool12.exe"}},
        {"timestamp": T0, "event_type": "q", "data": {"Image": "C:\\tool1.exe"}},
    ]
    indexed, stats = SelectStats(), SelectStats()

    assert found(events, index_rules(rules), indexed) == found(
        events, index_rules(rules, literals=False), stats
    )
    assert found(events, index_rules(rules))[0] == [(7, (0,)), (12, (1,)), ("x", (0,))]
    assert indexed.candidates == [2, 2, 0]  # its tool rule and the one with no literal
    assert stats.candidates == [41, 41, 0]


# Text whose case folding changes length or meets other characters: sharp s -> "ss",
# long s -> "s", Kelvin sign -> "k", dotted capital I -> "i" + combining dot, the "fi"
# ligature -> "fi"; and empty text.
TEXT = st.text(alphabet="abAsS\u00df\u017fkK\u212a\u0130i\ufb01f\\ ", max_size=5)
FIELDS = ["username", "message", "data.a", "data.b.c"]
REGEXES = st.sampled_from(
    ["^s", "K$", "\u00df", "ss+", "(?:ab|\u00df)k", "a.*K", "(?i)\u017fs", "[s]s", "x?\u00df",
     "s{2}", "(?:a|)b", "(a|b)+s", "a\\\\", "\\Qa\\E", "[[:alpha:]]]", "(?i:K)\u0130", "\\x{41}b"]
)  # fmt: skip
STRING_LEAVES = st.builds(
    leaf,
    st.sampled_from(FIELDS),
    st.sampled_from(["eq", "contains", "startswith", "endswith", "ne"]),
    TEXT,
    st.booleans(),
)
OTHER_LEAVES = st.one_of(
    st.builds(leaf, st.sampled_from(FIELDS), st.just("in"),
              st.lists(st.one_of(TEXT, st.sampled_from([None, 1, True])), min_size=1, max_size=3),
              st.booleans()),
    st.builds(leaf, st.sampled_from(FIELDS), st.just("regex"), REGEXES,
              st.booleans()),
    st.builds(leaf, st.sampled_from(FIELDS), st.just("exists"), st.booleans(), st.just(False)),
    st.builds(leaf, st.sampled_from(FIELDS), st.just("eq"), st.sampled_from([1, None, True]),
              st.just(False)),
)  # fmt: skip
CONDITIONS = st.recursive(
    st.one_of(STRING_LEAVES, STRING_LEAVES, OTHER_LEAVES),
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)
TYPED = st.builds(
    lambda types, condition: (
        {"all": [{"field": "event_type", "op": "in", "value": types}, condition]}
        if types
        else condition
    ),
    st.lists(st.sampled_from(["p", "q"]), max_size=2, unique=True),
    CONDITIONS,
)
VALUES: st.SearchStrategy[object] = st.one_of(
    TEXT, st.lists(TEXT, max_size=3), st.sampled_from([None, 0, 1.5, True, {}])
)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {"event_type": st.sampled_from(["p", "q", "r"])},
        optional={
            "username": VALUES,
            "message": VALUES,
            "data": st.fixed_dictionaries(
                {},
                optional={
                    "a": VALUES,
                    "b": st.one_of(VALUES, st.fixed_dictionaries({"c": VALUES})),
                },
            ),
        },
    ),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TYPED, min_size=1, max_size=12), EVENTS, st.booleans())
def test_indexed_selection_is_the_selection_of_every_rule_over_every_event(
    conditions, events, threshold
):
    for position, event in enumerate(events):
        event.update(id=position, timestamp=T0)
    rules = [
        compile_rule(
            condition,
            rule_id=n,
            group_by=["username"] if threshold and n % 2 else [],
            threshold=Threshold(2, 60) if threshold and n % 2 else None,
        )
        for n, condition in enumerate(conditions)
    ]
    every = found(events, index_rules(rules, literals=False))

    assert found(events, index_rules(rules, min_indexed=0)) == every
    assert sorted(every[0]) == sorted(
        (rule.rule_id, (position,))
        for rule in rules
        if rule.threshold is None
        for position, event in enumerate(events)
        if rule.matches(event)
    )


def test_thousands_of_rules_select_as_without_the_index():
    """A fixed-seed rule set of Sigma's shape: one type, an image suffix or file name, a
    command line fragment, some filters; thresholds too."""
    generator = random.Random(19)
    words = ["cmd", "Power", "shell", "ß", "K", "İ", "-enc", "whoami", "\\", "net", "use", " "]

    def text(size):
        return "".join(generator.choice(words) for _ in range(size))

    def string_leaf():
        op = generator.choice(["eq", "contains", "startswith", "endswith", "in", "regex"])
        field = generator.choice(["data.Image", "data.CommandLine", "data.Tags", "username"])
        value = (
            [text(2) for _ in range(generator.randint(1, 3))]
            if op == "in"
            else "ß|net"
            if op == "regex"
            else text(generator.randint(0, 2))
        )
        return leaf(field, op, value, generator.random() < 0.8)

    def condition(depth=0):
        roll = generator.random()
        if depth > 2 or roll < 0.5:
            return string_leaf()
        if roll < 0.6:
            return {"not": condition(depth + 1)}
        name = "all" if roll < 0.85 else "any"
        return {name: [condition(depth + 1) for _ in range(generator.randint(1, 3))]}

    rules = []
    for n in range(3000):
        types = generator.choice([["p"], ["p", "q"], None])
        tree = condition()
        if types:
            tree = {"all": [leaf("event_type", "in", types, False), tree]}
        threshold = generator.random() < 0.05
        rules.append(
            compile_rule(
                tree,
                rule_id=n,
                group_by=["username"] if threshold else [],
                threshold=Threshold(2, 60) if threshold else None,
            )
        )
    events = [
        {
            "id": n,
            "timestamp": T0,
            "event_type": generator.choice(["p", "q", "r"]),
            "username": generator.choice([text(1), None, 3]),
            "data": {
                "Image": text(generator.randint(0, 3)),
                "CommandLine": text(generator.randint(0, 6)).upper(),
                "Tags": [text(1), text(2)],
            },
        }
        for n in range(300)
    ]
    indexed, every = SelectStats(), SelectStats()

    assert found(events, index_rules(rules), indexed) == found(
        events, index_rules(rules, literals=False), every
    )
    assert sum(indexed.candidates) < sum(every.candidates) / 2
