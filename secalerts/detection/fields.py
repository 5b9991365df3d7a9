"""Field references: top-level event fields and dotted paths into `data`."""

from collections.abc import Callable, Mapping
from typing import Any

from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.schema import SENT_FIELDS

EVENT_FIELDS = frozenset(SENT_FIELDS)  # what a rule may name

MISSING: Any = object()  # a field that is absent, distinct from a JSON null

Getter = Callable[[Mapping[str, Any]], Any]


def compile_field(name: object, path: str) -> Getter:
    """A function returning the field's value, or MISSING. Paths are split once, here."""
    if not isinstance(name, str) or not name:
        raise RuleSyntaxError(path, "must be a field name")
    top, *rest = name.split(".")
    if top not in EVENT_FIELDS or (rest and top != "data") or any(not part for part in rest):
        raise RuleSyntaxError(
            path, f"unknown field {name!r}: use an event field or a dotted path into data"
        )
    if not rest:
        return lambda event: event.get(top, MISSING)
    parts = tuple(rest)

    def lookup(event: Mapping[str, Any]) -> Any:
        value = event.get("data", MISSING)
        for part in parts:
            if not isinstance(value, dict):
                return MISSING
            value = value.get(part, MISSING)
        return value

    return lookup
