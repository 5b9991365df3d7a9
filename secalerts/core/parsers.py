"""The API's JSON parser: strict about what the database and Python can safely hold."""

from collections.abc import Mapping
from typing import Any

import msgspec
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
# What msgspec raises for bytes that are not JSON it can hold: malformed text, nesting past
# the interpreter's recursion limit, and invalid UTF-8 inside strings.
JSON_DECODE_ERRORS = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)


class StrictJSONParser(JSONParser):
    """JSON bodies without the ways to crash a server behind them: nesting deep enough to
    overflow Python's recursion limit, invalid UTF-8 or lone surrogates, and NUL
    characters, which PostgreSQL text columns refuse."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping | None = None
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            value = msgspec.json.decode(raw)
        except JSON_DECODE_ERRORS as error:
            raise ParseError(f"JSON parse error: {error}") from error
        problem = _problem(value, MAX_DEPTH)
        if problem:
            raise ParseError(problem)
        return value


def _problem(value: Any, budget: int) -> str | None:
    """Iterative walk: a recursive one could itself overflow on hostile input."""
    stack = [(value, budget)]
    while stack:
        item, left = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "NUL characters are not allowed."
        elif isinstance(item, dict | list):
            if left <= 0:
                return f"JSON nested deeper than {MAX_DEPTH} levels."
            children = list(item.items()) if isinstance(item, dict) else item
            for child in children:
                if isinstance(child, tuple):  # a key and its value
                    stack.append((child[0], left))
                    stack.append((child[1], left - 1))
                else:
                    stack.append((child, left - 1))
    return None
