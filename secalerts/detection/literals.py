"""Rules indexed by the literal text they require, so that an event meets only the few
rules that can match it.

A rule's *requirement* is a set of (field, kind, literal) such that the rule matches an
event only if at least one of them holds of the event: the field's text, case-folded,
equals the literal (kind "eq"), starts or ends with it ("prefix", "suffix") or contains
it ("contains"; or, for a list, holds an element equal to it, as the `contains` operator
does). Literals are case-folded whatever the leaf's `ignore_case`: str.casefold maps each
character on its own, so an exact, prefix, suffix or substring match of the text implies
the same of the folded text, and a folded match is necessary for both kinds of leaf.

`LiteralIndex.find` reads each indexed field once per event: a dict answers "eq", and
one Aho-Corasick pass over the folded text finds every prefix, suffix and substring
literal it holds; the rules of the literals found are the event's candidates.
"""

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from secalerts.detection.conditions import Columns
from secalerts.detection.fields import Getter, compile_field

Literal = tuple[str, str, str]  # (field, kind, case-folded literal)
Requirement = frozenset[Literal]

KINDS = ("eq", "prefix", "suffix", "contains")
_KIND_OF_OP = {"eq": "eq", "in": "eq", "startswith": "prefix", "endswith": "suffix"}
# What a literal of each kind lets through, roughly: equality narrows most, a substring
# least; short literals let through more. Only used to choose among an `all`'s children.
_KIND_WEIGHT = {"eq": 1.0, "prefix": 2.0, "suffix": 2.0, "contains": 3.0}


def requirement(condition: object) -> Requirement | None:
    """The literals one of which a match needs, or None when none can be named (a `not`,
    a regex, a number...). `condition` has compiled: its shape is not checked again."""
    if not isinstance(condition, dict):
        return None
    if "all" in condition:
        found = [r for r in map(requirement, condition["all"]) if r is not None]
        # Any one child's is necessary. Not the event type's when another names text: every
        # event of the rule's types holds it (Sigma rules of two logsources are an `any`
        # of `all`s, each with its event type), so it narrows least whatever it costs.
        texts = [r for r in found if any(name != "event_type" for name, _, _ in r)]
        return min(texts or found, key=cost) if found else None
    if "any" in condition:
        union: set[Literal] = set()
        for child in condition["any"]:
            child_requirement = requirement(child)
            if child_requirement is None:
                return None  # that child may match without any literal
            union |= child_requirement
        return frozenset(union)
    if "not" in condition:
        return None
    return _leaf_requirement(condition)


def _leaf_requirement(leaf: Mapping[str, Any]) -> Requirement | None:
    op, value, name = leaf.get("op"), leaf.get("value"), leaf.get("field")
    if not isinstance(name, str):
        return None
    if op == "in":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None  # a number or null in the list matches without text
        return frozenset((name, "eq", v.casefold()) for v in value)
    if op == "regex":
        return _regex_requirement(name, value) if isinstance(value, str) else None
    if op == "contains":
        kind = "contains"
    else:
        found = _KIND_OF_OP.get(op) if isinstance(op, str) else None
        if found is None:
            return None
        kind = found
    if not isinstance(value, str) or (not value and kind != "eq"):
        return None  # every text starts with, ends with and contains ""
    return frozenset([(name, kind, value.casefold())])


def _regex_requirement(name: str, pattern: str) -> Requirement | None:
    """Text a match must contain, from the pattern's literal runs (as `contains`).

    Read with Python's own regex parser: RE2's syntax is Python's on everything this
    reads (literals, groups, alternation, repetition); where they part (\\Q..\\E, \\p{..},
    \\z, POSIX classes, which Python refuses or warns about) nothing is derived. Under
    RE2's case-insensitive matching, characters that match one another have the same
    case folding (checked over all of Unicode when this was written), so a folded run is
    necessary with or without (?i)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "possible nested set": RE2 reads [[:a:]] otherwise
            parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
    except (re.error, Warning, RecursionError, OverflowError):
        return None
    found = _sequence_literals(list(parsed))
    return None if found is None else frozenset((name, "contains", text) for text in found)


def _sequence_literals(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """Texts one of which each match of the sequence holds; the cheapest choice."""
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, argument in [*items, (None, None)]:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(argument))
            continue
        if run:
            options.append(frozenset(["".join(run).casefold()]))
            run = []
        found = None
        if name == "SUBPATTERN":
            found = _sequence_literals(list(argument[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and argument[0] >= 1:
            found = _sequence_literals(list(argument[2]))
        elif name == "BRANCH":
            branches = [_sequence_literals(list(branch)) for branch in argument[1]]
            if all(branch is not None for branch in branches):
                found = frozenset().union(*branches)  # type: ignore[arg-type]
        if found:
            options.append(found)
    return min(options, key=lambda texts: cost(("", "contains", t) for t in texts), default=None)


def cost(required: Iterable[Literal]) -> float:
    return sum(_KIND_WEIGHT[kind] * (1 + 8 / (len(text) + 1)) for _, kind, text in required)


@dataclass(frozen=True, slots=True)
class _FieldIndex:
    name: str
    get: Getter
    equal: Mapping[str, tuple[int, ...]]  # folded text -> slots
    # For a list value: folded element -> the slots of its "contains" literals.
    elements: Mapping[str, tuple[int, ...]]
    # Literal -> (its length, prefix slots, suffix slots, contains slots); None if none.
    automaton: Any


class LiteralIndex:
    """Slots (positions in the rule list it was built from) by the literals they require."""

    __slots__ = ("_fields",)

    def __init__(self, requirements: Sequence[tuple[int, Requirement]]) -> None:
        by_field: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(
            lambda: {kind: defaultdict(list) for kind in KINDS}
        )
        for slot, required in requirements:
            for name, kind, text in required:
                by_field[name][kind][text].append(slot)
        self._fields = tuple(_field_index(name, kinds) for name, kinds in sorted(by_field.items()))

    def find(
        self, columns: Columns, positions: Sequence[int]
    ) -> tuple[dict[int, list[int]], list[int]]:
        """(slot -> the positions whose events hold one of its literals, ascending;
        the number of slots found for each position, in order)."""
        fields = [
            (
                columns.folded(f.name, f.get),
                columns.values(f.name, f.get),
                f.equal,
                f.elements,
                f.automaton,
            )
            for f in self._fields
        ]
        by_slot: dict[int, list[int]] = defaultdict(list)
        counts = []
        for position in positions:
            found: set[int] = set()
            for texts, values, equal, elements, automaton in fields:
                text = texts[position]
                if type(text) is str:
                    slots = equal.get(text)
                    if slots:
                        found.update(slots)
                    if automaton is not None:
                        last = len(text) - 1
                        for end, (length, prefix, suffix, contains) in automaton.iter(text):
                            if contains:
                                found.update(contains)
                            if prefix and end + 1 == length:
                                found.update(prefix)
                            if suffix and end == last:
                                found.update(suffix)
                elif elements and isinstance(items := values[position], list):
                    for item in items:
                        if isinstance(item, str):
                            slots = elements.get(item.casefold())
                            if slots:
                                found.update(slots)
            for slot in found:
                by_slot[slot].append(position)
            counts.append(len(found))
        return by_slot, counts


def _field_index(name: str, kinds: Mapping[str, Mapping[str, list[int]]]) -> _FieldIndex:
    texts = set(kinds["prefix"]) | set(kinds["suffix"]) | set(kinds["contains"])
    automaton = None
    if texts:
        automaton = ahocorasick.Automaton()
        for text in texts:
            automaton.add_word(
                text,
                (
                    len(text),
                    tuple(kinds["prefix"].get(text, ())),
                    tuple(kinds["suffix"].get(text, ())),
                    tuple(kinds["contains"].get(text, ())),
                ),
            )
        automaton.make_automaton()
    return _FieldIndex(
        name=name,
        get=compile_field(name, "field"),
        equal={text: tuple(slots) for text, slots in kinds["eq"].items()},
        elements={text: tuple(slots) for text, slots in kinds["contains"].items()},
        automaton=automaton,
    )
