"""JSON condition trees compiled to predicates over event dicts. No Django imports.

Each tree compiles to two forms with one meaning: `matches(event)` for one event, and
`select(columns, candidates)` for a batch, which keeps the candidate positions whose
events match. The batch form reads each field of each event once (`Columns`), for all
the leaves of all the rules that test it, and narrows the candidates leaf by leaf: a
leaf costs one test per candidate instead of three calls (leaf, field, test). With
the group keys `engine.select` shares between rules, this takes the benchmark's 113
rules over a batch in a little over half the time of evaluating event by event.
"""

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import MISSING, Getter, compile_field
from secalerts.detection.operators import FIELD_OPERATORS, OPERATORS, Test

Predicate = Callable[[Mapping[str, Any]], bool]

MAX_DEPTH = 32
MAX_NODES = 1000
LEAF_KEYS = frozenset({"field", "op", "value", "ignore_case"})


class Columns:
    """A batch's events read field by field, each field once, when a leaf first asks."""

    __slots__ = ("_events", "_folded", "_values")

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self._events = events
        self._values: dict[str, list[Any]] = {}
        self._folded: dict[str, list[Any]] = {}

    def values(self, name: str, get: Getter) -> list[Any]:
        """The field's value in each event, MISSING where absent."""
        values = self._values.get(name)
        if values is None:
            values = self._values[name] = [get(event) for event in self._events]
        return values

    def folded(self, name: str, get: Getter) -> list[Any]:
        """The field's values with strings case-folded (others as they are), folded once
        per batch for all the `ignore_case` leaves that read the field: a thousand Sigma
        rules test the same command line."""
        folded = self._folded.get(name)
        if folded is None:
            folded = self._folded[name] = [
                value.casefold() if type(value) is str else value
                for value in self.values(name, get)
            ]
        return folded


Selector = Callable[[Columns, list[int]], list[int]]


class Condition(NamedTuple):
    matches: Predicate
    select: Selector  # the candidates (positions in the batch, ascending) that match


def compile_condition(tree: object, path: str = "condition") -> Condition:
    """Compile once; neither form raises, whatever the events hold."""
    budget = [MAX_NODES]
    return _compile(tree, path, 1, budget)


def _compile(node: object, path: str, depth: int, budget: list[int]) -> Condition:
    if depth > MAX_DEPTH:
        raise RuleSyntaxError(path, f"nested deeper than {MAX_DEPTH} levels")
    budget[0] -= 1
    if budget[0] < 0:
        raise RuleSyntaxError(path, f"more than {MAX_NODES} nodes")
    if not isinstance(node, dict):
        raise RuleSyntaxError(path, "must be an object: all, any, not, or a field/op/value leaf")
    keys = set(node)
    if keys in ({"all"}, {"any"}):
        (name,) = keys
        children = node[name]
        if not isinstance(children, list) or not children:
            raise RuleSyntaxError(f"{path}.{name}", "must be a non-empty list of conditions")
        compiled = tuple(
            _compile(child, f"{path}.{name}[{index}]", depth + 1, budget)
            for index, child in enumerate(children)
        )
        if name == "all":
            return Condition(_all_of([c.matches for c in compiled]), _narrow(compiled))
        compiled = _merge_string_leaves(children, compiled)
        return Condition(_any_of([c.matches for c in compiled]), _union(compiled))
    if keys == {"not"}:
        return _not(_compile(node["not"], f"{path}.not", depth + 1, budget))
    if "field" in keys or "op" in keys:
        return _compile_leaf(node, path)
    raise RuleSyntaxError(
        path, f"unknown keys {sorted(keys)}: use one of all, any, not, or field/op/value"
    )


_MERGED_OPS = frozenset({"contains", "startswith", "endswith"})


def _merge_string_leaves(
    children: list[Any], compiled: tuple[Condition, ...]
) -> tuple[Condition, ...]:
    """Under `any`, the leaves testing one field with one string operator become one test
    (an imported Sigma rule lists dozens of `endswith` values for one field): one pass
    over the batch for them all instead of one per leaf. Same meaning."""
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for index, child in enumerate(children):
        if (
            isinstance(child, dict)
            and child.get("op") in _MERGED_OPS
            and isinstance(child.get("value"), str)
            and isinstance(child.get("field"), str)
        ):
            key = (child["field"], child["op"], child.get("ignore_case") is True)
            groups.setdefault(key, []).append(index)
    merged = {indexes[0]: key for key, indexes in groups.items() if len(indexes) > 1}
    if not merged:
        return compiled
    dropped = {i for indexes in groups.values() if len(indexes) > 1 for i in indexes[1:]}
    out = []
    for index, condition in enumerate(compiled):
        if index in dropped:
            continue
        group = merged.get(index)
        if group is None:
            out.append(condition)
            continue
        name, op, ignore_case = group
        members = groups[group]
        needles = [children[i]["value"] for i in members]
        out.append(_any_string(name, op, ignore_case, needles, [compiled[i] for i in members]))
    return tuple(out)


def _any_string(
    name: str, op: str, ignore_case: bool, needles: list[str], leaves: list[Condition]
) -> Condition:
    get = compile_field(name, "condition")
    found = tuple(n.casefold() for n in needles) if ignore_case else tuple(needles)
    string_test: Callable[[str], bool]
    if op == "startswith":
        string_test = lambda actual: actual.startswith(found)  # noqa: E731
    elif op == "endswith":
        string_test = lambda actual: actual.endswith(found)  # noqa: E731
    else:
        string_test = _contains_any(found)
    matchers = [leaf.matches for leaf in leaves]

    def other(event: Mapping[str, Any]) -> bool:
        # Not a string (a list for contains, say): the leaves' own tests decide.
        for matches in matchers:  # noqa: SIM110 - as in _any_of
            if matches(event):
                return True
        return False

    def matches(event: Mapping[str, Any]) -> bool:
        actual = get(event)
        if type(actual) is str:
            return string_test(actual.casefold() if ignore_case else actual)
        return actual is not MISSING and other(event)

    selects = [leaf.select for leaf in leaves]

    def select(columns: Columns, candidates: list[int]) -> list[int]:
        texts = columns.folded(name, get) if ignore_case else columns.values(name, get)
        kept, rest = [], []
        for i in candidates:
            actual = texts[i]
            if type(actual) is str:
                if string_test(actual):
                    kept.append(i)
            elif actual is not MISSING:
                rest.append(i)
        if rest:  # rare: non-string values go through the leaves themselves
            found_rest: set[int] = set()
            for leaf_select in selects:
                found_rest.update(leaf_select(columns, rest))
            kept = sorted({*kept, *found_rest})
        return kept

    return Condition(matches, select)


def _contains_any(needles: tuple[str, ...]) -> Callable[[str], bool]:
    # A loop of `in` (C string search) beats one RE2 alternation here: the RE2 binding's
    # per-call cost is larger than a few dozen substring searches.
    return lambda actual: any(needle in actual for needle in needles)


# Rules run for every event of a batch, so the common shapes get closures without a
# generator or an extra call per node; the meaning is that of all() and any().
def _all_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda event: first(event) and second(event)

    def all_of(event: Mapping[str, Any]) -> bool:
        for predicate in predicates:  # noqa: SIM110 - all() would build a generator per event
            if not predicate(event):
                return False
        return True

    return all_of


def _any_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda event: first(event) or second(event)

    def any_of(event: Mapping[str, Any]) -> bool:
        for predicate in predicates:  # noqa: SIM110 - any() would build a generator per event
            if predicate(event):
                return True
        return False

    return any_of


def _narrow(conditions: tuple[Condition, ...]) -> Selector:
    """all: each child keeps some of what the one before it kept."""
    selects = [condition.select for condition in conditions]

    def narrow(columns: Columns, candidates: list[int]) -> list[int]:
        for select in selects:
            if not candidates:
                break
            candidates = select(columns, candidates)
        return candidates

    return narrow


def _union(conditions: tuple[Condition, ...]) -> Selector:
    """any: each child looks only at what the ones before it did not keep."""
    selects = [condition.select for condition in conditions]

    def union(columns: Columns, candidates: list[int]) -> list[int]:
        found: set[int] = set()
        rest = candidates
        for select in selects:
            found.update(select(columns, rest))
            rest = [i for i in rest if i not in found]
            if not rest:
                break
        return [i for i in candidates if i in found]

    return union


def _not(inner: Condition) -> Condition:
    test, select = inner

    def exclude(columns: Columns, candidates: list[int]) -> list[int]:
        kept = set(select(columns, candidates))
        return [i for i in candidates if i not in kept]

    return Condition(lambda event: not test(event), exclude)


def _compile_leaf(node: dict[str, Any], path: str) -> Condition:
    unknown = set(node) - LEAF_KEYS
    if unknown:
        raise RuleSyntaxError(f"{path}.{sorted(unknown)[0]}", "unknown key in a leaf")
    for key in ("field", "op", "value"):
        if key not in node:
            raise RuleSyntaxError(f"{path}.{key}", "is required")
    get = compile_field(node["field"], f"{path}.field")
    op = node["op"]
    if not isinstance(op, str) or (op not in OPERATORS and op not in FIELD_OPERATORS):
        raise RuleSyntaxError(
            f"{path}.op",
            f"unknown operator {op!r}: one of {', '.join([*OPERATORS, *FIELD_OPERATORS])}",
        )
    ignore_case = node.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise RuleSyntaxError(f"{path}.ignore_case", "must be true or false")
    value, name = node["value"], node["field"]
    if op in FIELD_OPERATORS:
        return _compare_fields(
            name, get, FIELD_OPERATORS[op](value, ignore_case, f"{path}.value"), value, path
        )
    test = OPERATORS[op](value, ignore_case, f"{path}.value")
    if op == "exists":

        def select_existing(columns: Columns, candidates: list[int]) -> list[int]:
            values = columns.values(name, get)
            return [i for i in candidates if test(values[i])]

        return Condition(lambda event: test(get(event)), select_existing)
    if op == "eq" and isinstance(value, str) and not ignore_case:
        # A string equals only an equal string: no type test or MISSING check needed.

        def select_equal(columns: Columns, candidates: list[int]) -> list[int]:
            values = columns.values(name, get)
            return [i for i in candidates if values[i] == value]

        if "." not in name:
            return Condition(lambda event: event.get(name) == value, select_equal)
        return Condition(lambda event: get(event) == value, select_equal)

    def leaf(event: Mapping[str, Any]) -> bool:
        actual = get(event)
        return actual is not MISSING and test(actual)

    def select_leaf(columns: Columns, candidates: list[int]) -> list[int]:
        values = columns.values(name, get)
        return [i for i in candidates if (actual := values[i]) is not MISSING and test(actual)]

    return Condition(leaf, _common_case(op, value, ignore_case, name, get, test) or select_leaf)


def _compare_fields(
    name: str, get: Getter, compare: Callable[[Any, Any], bool], other: str, path: str
) -> Condition:
    get_other = compile_field(other, f"{path}.value")

    def select_compared(columns: Columns, candidates: list[int]) -> list[int]:
        values, others = columns.values(name, get), columns.values(other, get_other)
        return [i for i in candidates if compare(values[i], others[i])]

    return Condition(lambda event: compare(get(event), get_other(event)), select_compared)


def _common_case(
    op: str, value: Any, ignore_case: bool, name: str, get: Getter, test: Test
) -> Selector | None:
    """The usual leaves of a batch answered inline for the usual value type, and by the
    operator's own test for any other (MISSING included, which every test refuses)."""
    if ignore_case:
        return _folded_case(op, value, name, get, test)
    if op == "contains":
        needle = value

        def select_containing(columns: Columns, candidates: list[int]) -> list[int]:
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (needle in actual if type(actual := values[i]) is str else test(actual))
            ]

        return select_containing
    if op == "in":
        strings = frozenset(v for v in value if isinstance(v, str))
        null = any(v is None for v in value)

        def select_listed(columns: Columns, candidates: list[int]) -> list[int]:
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (
                    actual in strings
                    if type(actual := values[i]) is str
                    else null
                    if actual is None
                    else test(actual)
                )
            ]

        return select_listed
    compare = _NUMBER_COMPARISONS.get(op)
    if compare is not None and type(value) in (int, float):

        def select_compared(columns: Columns, candidates: list[int]) -> list[int]:
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (
                    compare(actual, value)
                    if type(actual := values[i]) in (int, float)
                    else test(actual)
                )
            ]

        return select_compared
    return None


def _folded_case(op: str, value: Any, name: str, get: Getter, test: Test) -> Selector | None:
    """The case-insensitive string leaves over the batch's folded values; a value that
    is not a string goes to the operator's own test, as in _common_case."""
    if op in ("contains", "startswith", "endswith", "eq") and isinstance(value, str):
        needle = value.casefold()
        if op == "contains":
            string_test: Callable[[str], bool] = lambda actual: needle in actual  # noqa: E731
        elif op == "startswith":
            string_test = lambda actual: actual.startswith(needle)  # noqa: E731
        elif op == "endswith":
            string_test = lambda actual: actual.endswith(needle)  # noqa: E731
        else:
            string_test = needle.__eq__

        def select_folded(columns: Columns, candidates: list[int]) -> list[int]:
            folded = columns.folded(name, get)
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (
                    string_test(actual)
                    if type(actual := folded[i]) is str
                    else (actual is not MISSING and test(values[i]))
                )
            ]

        return select_folded
    if op == "in":
        strings = frozenset(v.casefold() for v in value if isinstance(v, str))

        def select_listed(columns: Columns, candidates: list[int]) -> list[int]:
            folded = columns.folded(name, get)
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (
                    actual in strings
                    if type(actual := folded[i]) is str
                    else (actual is not MISSING and test(values[i]))
                )
            ]

        return select_listed
    return None


_NUMBER_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
