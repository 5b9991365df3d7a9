"""JSON condition trees compiled to predicates over event dicts. No Django imports."""

from collections.abc import Callable, Mapping
from typing import Any

from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import MISSING, compile_field
from secalerts.detection.operators import OPERATORS

Predicate = Callable[[Mapping[str, Any]], bool]

MAX_DEPTH = 32
MAX_NODES = 1000
LEAF_KEYS = frozenset({"field", "op", "value", "ignore_case"})


def compile_condition(tree: object, path: str = "condition") -> Predicate:
    """Compile once; the predicate never raises, whatever the event holds."""
    budget = [MAX_NODES]
    return _compile(tree, path, 1, budget)


def _compile(node: object, path: str, depth: int, budget: list[int]) -> Predicate:
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
        return _all_of(compiled) if name == "all" else _any_of(compiled)
    if keys == {"not"}:
        inner = _compile(node["not"], f"{path}.not", depth + 1, budget)
        return lambda event: not inner(event)
    if "field" in keys or "op" in keys:
        return _compile_leaf(node, path)
    raise RuleSyntaxError(
        path, f"unknown keys {sorted(keys)}: use one of all, any, not, or field/op/value"
    )


# Rules run for every event of a batch, so the common shapes get closures without a
# generator or an extra call per node; the meaning is that of all() and any().
def _all_of(predicates: tuple[Predicate, ...]) -> Predicate:
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


def _any_of(predicates: tuple[Predicate, ...]) -> Predicate:
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


def _compile_leaf(node: dict[str, Any], path: str) -> Predicate:
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
    value = node["value"]
    test = OPERATORS[op](value, ignore_case, f"{path}.value")
    if op == "exists":
        return lambda event: test(get(event))
    name = node["field"]
    if op == "eq" and isinstance(value, str) and not ignore_case and "." not in name:
        # A string equals only an equal string: no type test or MISSING check needed.
        return lambda event: event.get(name) == value

    def leaf(event: Mapping[str, Any]) -> bool:
        actual = get(event)
        return actual is not MISSING and test(actual)

    return leaf
