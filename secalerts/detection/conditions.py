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
from secalerts.detection.operators import OPERATORS, Test

Predicate = Callable[[Mapping[str, Any]], bool]

MAX_DEPTH = 32
MAX_NODES = 1000
LEAF_KEYS = frozenset({"field", "op", "value", "ignore_case"})


class Columns:
    """A batch's events read field by field, each field once, when a leaf first asks."""

    __slots__ = ("_events", "_texts", "_values")

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self._events = events
        self._values: dict[str, list[Any]] = {}
        self._texts: dict[str, list[str | None]] = {}

    def values(self, name: str, get: Getter) -> list[Any]:
        """The field's value in each event, MISSING where absent."""
        values = self._values.get(name)
        if values is None:
            values = self._values[name] = [get(event) for event in self._events]
        return values

    def folded_texts(self, name: str, get: Getter) -> list[str | None]:
        """The field's text case-folded in each event, None where it is not text: the
        case-insensitive leaves on a field fold each value once between them."""
        texts = self._texts.get(name)
        if texts is None:
            texts = self._texts[name] = [
                value.casefold() if isinstance(value, str) else None
                for value in self.values(name, get)
            ]
        return texts


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
        return Condition(_any_of([c.matches for c in compiled]), _union(compiled))
    if keys == {"not"}:
        return _not(_compile(node["not"], f"{path}.not", depth + 1, budget))
    if "field" in keys or "op" in keys:
        return _compile_leaf(node, path)
    raise RuleSyntaxError(
        path, f"unknown keys {sorted(keys)}: use one of all, any, not, or field/op/value"
    )


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
    if not isinstance(op, str) or op not in OPERATORS:
        raise RuleSyntaxError(
            f"{path}.op", f"unknown operator {op!r}: one of {', '.join(OPERATORS)}"
        )
    ignore_case = node.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise RuleSyntaxError(f"{path}.ignore_case", "must be true or false")
    value, name = node["value"], node["field"]
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
    """The case-insensitive text leaves over the batch's folded texts (Sigma's kind)."""
    if not isinstance(value, str) or op not in ("eq", "contains", "startswith", "endswith"):
        return None
    folded = value.casefold()
    if op == "contains":  # a list holding the value matches too: the operator's own test

        def select_containing(columns: Columns, candidates: list[int]) -> list[int]:
            texts = columns.folded_texts(name, get)
            values = columns.values(name, get)
            return [
                i
                for i in candidates
                if (folded in text if (text := texts[i]) is not None else test(values[i]))
            ]

        return select_containing
    # The other three match text only.
    if op == "eq":

        def select_equal(columns: Columns, candidates: list[int]) -> list[int]:
            texts = columns.folded_texts(name, get)
            return [i for i in candidates if texts[i] == folded]

        return select_equal
    ends = op == "endswith"

    def select_affixed(columns: Columns, candidates: list[int]) -> list[int]:
        texts = columns.folded_texts(name, get)
        if ends:
            return [
                i for i in candidates if (text := texts[i]) is not None and text.endswith(folded)
            ]
        return [i for i in candidates if (text := texts[i]) is not None and text.startswith(folded)]

    return select_affixed


_NUMBER_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
