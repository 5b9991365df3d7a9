"""A parsed Sigma rule (pySigma's objects) -> our JSON condition tree. No Django.

pySigma parses the YAML, applies the modifiers (wildcards, `re`, `cidr`, `base64*`,
`utf16*`/`wide`, `windash`, `all`...) and parses the condition; this module walks the
result. Sigma strings match whole values, case-insensitively, `*` and `?` being
wildcards: a plain string is `eq`, `*x*` `contains`, `x*` `startswith`, `*x` `endswith`
(all with `ignore_case`), and any other wildcard pattern an anchored RE2 `regex`.
Anything that cannot be evaluated faithfully raises `Unsupported` with the reason: the
rule is skipped, never imported half-right.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from secalerts import detection

Node = dict[str, Any]

# Sigma spec 2 names UTF-16LE `utf16le`; pySigma 2.0 knows it only as `wide`.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

SEVERITIES = {"informational": "info", "low": "low", "medium": "medium", "high": "high"}
SEVERITIES["critical"] = "critical"
_COMPARISONS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
}
_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
MAX_NODES = 1000  # detection.conditions' limit
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


class Unsupported(Exception):
    """The rule cannot be evaluated faithfully; str() is the reason."""


class FieldUnavailable(Exception):
    """A target of the logsource has no such field (the target is dropped)."""


@dataclass(frozen=True)
class Target:
    """Events of some types and how Sigma's field names read them (see logsources.py)."""

    event_types: tuple[str, ...] = ()
    event_type_prefixes: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    field_prefix: str | None = None  # None: only `fields` exist
    keywords_field: str = "message"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Target":
        return cls(
            event_types=tuple(raw.get("event_types") or ()),
            event_type_prefixes=tuple(raw.get("event_type_prefixes") or ()),
            fields=dict(raw.get("fields") or {}),
            field_prefix=raw.get("field_prefix"),
            keywords_field=raw.get("keywords_field") or "message",
        )

    def field(self, name: str) -> str:
        mapped = self.fields.get(name)
        if mapped is not None:
            return mapped
        if self.field_prefix is None:
            raise FieldUnavailable(name)
        return f"{self.field_prefix}{name}"

    def type_condition(self) -> Node:
        leaves: list[Node] = []
        if self.event_types:
            leaves.append(_values_leaf("event_type", list(self.event_types), ignore_case=False))
        leaves += [
            {"field": "event_type", "op": "startswith", "value": prefix}
            for prefix in self.event_type_prefixes
        ]
        if not leaves:
            raise Unsupported("logsource mapping names no event types")
        return leaves[0] if len(leaves) == 1 else {"any": leaves}


def severity_of(level: object) -> str:
    name = getattr(level, "name", None) or "medium"
    return SEVERITIES.get(str(name).lower(), "medium")


def compile_condition(rule: SigmaRule, targets: Sequence[Target], logsource: str) -> Node:
    """The rule's condition over the events of its logsource's targets."""
    trees = []
    for condition in rule.detection.parsed_condition:
        try:
            trees.append(condition.parse())
        except Exception as error:  # pySigma raises its own errors for bad conditions
            raise Unsupported(f"condition: {error}") from error
    branches: list[tuple[Target, Node]] = []
    missing: set[str] = set()
    for target in targets:
        try:
            bodies = [_walk(tree, target) for tree in trees]
        except FieldUnavailable as error:
            missing.add(str(error))
            continue
        branches.append((target, bodies[0] if len(bodies) == 1 else {"any": bodies}))
    if not branches:
        raise Unsupported(f"fields not available for logsource {logsource}: {sorted(missing)}")
    first, body = branches[0]
    alone = simplify({"all": [first.type_condition(), body]})
    if len(branches) == 1:
        return alone
    combined = _combine(branches)
    # Each target repeats the condition with its own field names; when that is too big,
    # the rule keeps its first (main) target only, exact there.
    return alone if _size(combined) > MAX_NODES else combined


def _combine(branches: list[tuple[Target, Node]]) -> Node:
    types = sorted({t for target, _ in branches for t in target.event_types})
    prefixes = sorted({p for target, _ in branches for p in target.event_type_prefixes})
    union = Target(event_types=tuple(types), event_type_prefixes=tuple(prefixes))
    alternatives = [{"all": [target.type_condition(), body]} for target, body in branches]
    return simplify({"all": [union.type_condition(), {"any": alternatives}]})


def _size(node: Node) -> int:
    for kind in ("all", "any"):
        if kind in node:
            return 1 + sum(_size(child) for child in node[kind])
    if "not" in node:
        return 1 + _size(node["not"])
    return 1


def _walk(node: object, target: Target) -> Node:
    if isinstance(node, ConditionAND):
        return {"all": [_walk(arg, target) for arg in node.args]}
    if isinstance(node, ConditionOR):
        return {"any": [_walk(arg, target) for arg in node.args]}
    if isinstance(node, ConditionNOT):
        return {"not": _walk(node.args[0], target)}
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return field_condition(target.field(node.field), node.value, target.field)
    if isinstance(node, ConditionValueExpression):
        return keyword_condition(target.keywords_field, node.value)
    raise Unsupported(f"condition element {type(node).__name__} is not supported")


def field_condition(name: str, value: object, field_of: Callable[[str], str] = str) -> Node:
    """One Sigma field/value pair (modifiers applied) as our condition."""
    if isinstance(value, SigmaExpansion):
        return {"any": [field_condition(name, v, field_of) for v in value.values]}
    if isinstance(value, SigmaString):
        return _string_condition(name, value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_condition(name, value)
    if isinstance(value, SigmaNull):
        return {"field": name, "op": "exists", "value": False}
    if isinstance(value, SigmaExists):
        return {"field": name, "op": "exists", "value": bool(value.exists)}
    if isinstance(value, SigmaBool):
        return {"field": name, "op": "eq", "value": bool(value.boolean)}
    if isinstance(value, SigmaNumber):
        # Shippers send numbers as numbers or as text ("4688"): either matches.
        return {"field": name, "op": "in", "value": [value.number, str(value.number)]}
    if isinstance(value, SigmaCompareExpression):
        return {"field": name, "op": _COMPARISONS[value.op], "value": value.number.number}
    if isinstance(value, SigmaCIDRExpression):
        return {"field": name, "op": "cidr", "value": str(value.network)}
    if isinstance(value, SigmaFieldReference):
        if value.starts_with or value.ends_with:
            raise Unsupported("fieldref with startswith/endswith is not supported")
        other = field_of(value.field)
        return {"field": name, "op": "eq_field", "value": other, "ignore_case": True}
    raise Unsupported(f"value type {type(value).__name__} is not supported")


def _parts(value: SigmaString) -> list[str | SpecialChars]:
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, str | SpecialChars):
            parts.append(part)
        else:
            raise Unsupported("placeholders (the expand modifier) are not supported")
    return parts


def _string_condition(name: str, value: SigmaString) -> Node:
    ignore_case = not isinstance(value, SigmaCasedString)
    parts = _parts(value)
    many, one = SpecialChars.WILDCARD_MULTI, SpecialChars.WILDCARD_SINGLE
    if not parts:
        return _leaf(name, "eq", "", ignore_case)
    if parts == [many]:
        return {"field": name, "op": "exists", "value": True}
    if all(isinstance(p, str) for p in parts):
        text = "".join(p for p in parts if isinstance(p, str))
        return _leaf(name, "eq", text, ignore_case)
    if len(parts) == 3 and parts[0] == many == parts[2] and isinstance(parts[1], str):
        return _leaf(name, "contains", parts[1], ignore_case)
    if len(parts) == 2 and parts[1] == many and isinstance(parts[0], str):
        return _leaf(name, "startswith", parts[0], ignore_case)
    if len(parts) == 2 and parts[0] == many and isinstance(parts[1], str):
        return _leaf(name, "endswith", parts[1], ignore_case)
    pattern = "(?s)^" + "".join(_regex_part(p, many, one) for p in parts) + "$"
    return _leaf(name, "regex", pattern, ignore_case)


def _regex_part(part: str | SpecialChars, many: SpecialChars, one: SpecialChars) -> str:
    if not isinstance(part, str):
        return ".*" if part == many else "."
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in part)


def _regex_condition(name: str, value: SigmaRegularExpression) -> Node:
    flags = "".join(sorted(_REGEX_FLAGS[f] for f in value.flags if f in _REGEX_FLAGS))
    unknown = [f for f in value.flags if f not in _REGEX_FLAGS]
    if unknown:
        raise Unsupported(f"regex flags {unknown} are not supported")
    pattern = str(value.regexp)
    # i is the leaf's ignore_case (RE2's case-insensitive option); m and s go inline.
    inline = flags.replace("i", "")
    if inline:
        pattern = f"(?{inline}){pattern}"
    return _leaf(name, "regex", pattern, "i" in flags)


def keyword_condition(name: str, value: object) -> Node:
    """A field-less search: the value anywhere in the keywords field."""
    if isinstance(value, SigmaExpansion):
        return {"any": [keyword_condition(name, v) for v in value.values]}
    if isinstance(value, SigmaNumber):
        return _leaf(name, "contains", str(value.number), True)
    if isinstance(value, SigmaRegularExpression):
        return _regex_condition(name, value)
    if not isinstance(value, SigmaString):
        raise Unsupported(f"keyword of type {type(value).__name__} is not supported")
    ignore_case = not isinstance(value, SigmaCasedString)
    many, one = SpecialChars.WILDCARD_MULTI, SpecialChars.WILDCARD_SINGLE
    parts = _parts(value)
    while parts and parts[0] == many:
        parts.pop(0)
    while parts and parts[-1] == many:
        parts.pop()
    if not parts:
        return {"field": name, "op": "exists", "value": True}
    if all(isinstance(p, str) for p in parts):
        return _leaf(name, "contains", "".join(str(p) for p in parts), ignore_case)
    pattern = "(?s)" + "".join(_regex_part(p, many, one) for p in parts)
    return _leaf(name, "regex", pattern, ignore_case)


def _leaf(name: str, op: str, value: Any, ignore_case: bool) -> Node:
    leaf: Node = {"field": name, "op": op, "value": value}
    if ignore_case:
        leaf["ignore_case"] = True
    return leaf


def _values_leaf(name: str, values: list[Any], *, ignore_case: bool) -> Node:
    if len(values) == 1:
        return _leaf(name, "eq", values[0], ignore_case)
    return _leaf(name, "in", values, ignore_case)


def simplify(node: Node) -> Node:
    """Flatten nested all/any, and merge equality leaves on one field under any into one
    `in` leaf: smaller rules, and literal values an index can read."""
    if "not" in node:
        inner = simplify(node["not"])
        negated: Node = inner["not"] if "not" in inner else {"not": inner}  # noqa: SIM401
        return negated
    kind = "all" if "all" in node else "any" if "any" in node else None
    if kind is None:
        return node
    children: list[Node] = []
    for child in (simplify(c) for c in node[kind]):
        children.extend(child[kind] if kind in child else [child])  # noqa: SIM401
    if kind == "any":
        children = _merge_equalities(children)
    return children[0] if len(children) == 1 else {kind: children}


def _merge_equalities(children: list[Node]) -> list[Node]:
    merged: dict[tuple[str, bool], list[Any]] = {}
    rest: list[Node] = []
    for child in children:
        op = child.get("op")
        if op in ("eq", "in") and child.get("field") != "event_type":
            key = (child["field"], bool(child.get("ignore_case")))
            values = child["value"] if op == "in" else [child["value"]]
            if key not in merged:
                merged[key] = []
                rest.append({"merge": key})
            merged[key].extend(values)
        else:
            rest.append(child)
    out = []
    for child in rest:
        if "merge" not in child:
            out.append(child)
            continue
        name, ignore_case = child["merge"]
        values = _unique(merged[(name, ignore_case)], ignore_case)
        out.append(_values_leaf(name, values, ignore_case=ignore_case))
    return out


def _unique(values: list[Any], ignore_case: bool) -> list[Any]:
    seen, out = set(), []
    for value in values:
        folded = value.casefold() if isinstance(value, str) and ignore_case else value
        key = (type(value), folded)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def check(condition: Node) -> None:
    """Raise Unsupported when our engine refuses the compiled condition (RE2, sizes)."""
    try:
        detection.compile_rule(condition)
    except detection.RuleSyntaxError as error:
        raise Unsupported(f"compiled condition refused: {error}") from error
