"""Operator name -> comparison of a field value with the rule's value. Never raises.

Each operator is compiled once per rule leaf: the rule's value is checked and
prepared (regex compiled, networks parsed, sets built) before any event is seen.
"""

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

import re2

from secalerts.detection.errors import RuleSyntaxError
from secalerts.detection.fields import MISSING

Test = Callable[[Any], bool]
MAX_REGEX_LENGTH = 1000
# RE2's own default, named because it is a decision: it bounds the compiled program (a
# bigger one is refused on save) and the DFA cache; a smaller cache would push searches
# onto RE2's slower (still linear) NFA.
MAX_REGEX_MEMORY_BYTES = 8 << 20
MAX_IN_VALUES = 10_000


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _fold(value: str, ignore_case: bool) -> str:
    return value.casefold() if ignore_case else value


def _equals(expected: Any, ignore_case: bool) -> Test:
    """Equality that only holds between compatible types (bool is not a number)."""
    if expected is None:
        return lambda actual: actual is None
    if isinstance(expected, bool):
        return lambda actual: actual is expected
    if isinstance(expected, str):
        folded = _fold(expected, ignore_case)
        if ignore_case:
            return lambda actual: isinstance(actual, str) and actual.casefold() == folded
        return lambda actual: isinstance(actual, str) and actual == expected
    return lambda actual: _is_number(actual) and actual == expected


def _same_kind(expected: Any) -> Test:
    if expected is None:
        return lambda actual: actual is not None and actual is not MISSING
    if isinstance(expected, bool):
        return lambda actual: isinstance(actual, bool)
    if isinstance(expected, str):
        return lambda actual: isinstance(actual, str)
    return _is_number


def op_eq(value: Any, ignore_case: bool, path: str) -> Test:
    if not _is_scalar(value):
        raise RuleSyntaxError(path, "eq takes a string, number, boolean or null")
    return _equals(value, ignore_case)


def op_ne(value: Any, ignore_case: bool, path: str) -> Test:
    if not _is_scalar(value):
        raise RuleSyntaxError(path, "ne takes a string, number, boolean or null")
    equals, same_kind = _equals(value, ignore_case), _same_kind(value)
    if value is None:
        return same_kind
    return lambda actual: same_kind(actual) and not equals(actual)


def op_in(value: Any, ignore_case: bool, path: str) -> Test:
    if not isinstance(value, list) or not value or len(value) > MAX_IN_VALUES:
        raise RuleSyntaxError(path, f"in takes a non-empty list of at most {MAX_IN_VALUES} values")
    for index, item in enumerate(value):
        if not _is_scalar(item):
            raise RuleSyntaxError(f"{path}[{index}]", "must be a string, number, boolean or null")
    strings = frozenset(_fold(v, ignore_case) for v in value if isinstance(v, str))
    numbers = frozenset(v for v in value if _is_number(v))
    bools = frozenset(v for v in value if isinstance(v, bool))
    has_null = any(v is None for v in value)

    def test(actual: Any) -> bool:
        if isinstance(actual, str):
            return _fold(actual, ignore_case) in strings
        if isinstance(actual, bool):
            return actual in bools
        if _is_number(actual):
            try:
                return actual in numbers
            except TypeError:
                return False
        return actual is None and has_null

    return test


def _string_value(op: str, value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise RuleSyntaxError(path, f"{op} takes a string")
    return value


def op_contains(value: Any, ignore_case: bool, path: str) -> Test:
    needle = _fold(_string_value("contains", value, path), ignore_case)

    def test(actual: Any) -> bool:
        if isinstance(actual, str):
            return needle in _fold(actual, ignore_case)
        if isinstance(actual, list):
            return any(isinstance(x, str) and _fold(x, ignore_case) == needle for x in actual)
        return False

    return test


def op_startswith(value: Any, ignore_case: bool, path: str) -> Test:
    prefix = _fold(_string_value("startswith", value, path), ignore_case)
    return lambda actual: isinstance(actual, str) and _fold(actual, ignore_case).startswith(prefix)


def op_endswith(value: Any, ignore_case: bool, path: str) -> Test:
    suffix = _fold(_string_value("endswith", value, path), ignore_case)
    return lambda actual: isinstance(actual, str) and _fold(actual, ignore_case).endswith(suffix)


def op_regex(value: Any, ignore_case: bool, path: str) -> Test:
    """RE2 syntax and semantics: a search takes time linear in the text, whatever the
    pattern, so no rule and no event can stall a worker. Patterns that need backtracking
    (backreferences, lookaround, possessive or atomic groups) do not compile."""
    pattern = _string_value("regex", value, path)
    if len(pattern) > MAX_REGEX_LENGTH:
        raise RuleSyntaxError(path, f"regex is longer than {MAX_REGEX_LENGTH} characters")
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.never_capture = True  # only whether it matches: groups would cost time
    options.max_mem = MAX_REGEX_MEMORY_BYTES
    options.log_errors = False  # the error goes back to whoever saves the rule
    try:
        search = re2.compile(pattern, options).search
    except UnicodeEncodeError as error:
        raise RuleSyntaxError(path, "regex is not valid Unicode text") from error
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise RuleSyntaxError(
            path, f"regex is not valid RE2 (no backreferences or lookaround): {reason}"
        ) from error

    def test(actual: Any) -> bool:
        if not isinstance(actual, str):
            return False
        try:
            return search(actual) is not None
        except UnicodeEncodeError:
            # A lone surrogate has no UTF-8 form; RE2 reads the rest of the text as bytes.
            return search(actual.encode(errors="surrogatepass")) is not None

    return test


def _ordering(op: str, compare: Callable[[Any, Any], bool]) -> Callable[[Any, bool, str], Test]:
    def build(value: Any, ignore_case: bool, path: str) -> Test:
        if isinstance(value, str):
            return lambda actual: isinstance(actual, str) and compare(actual, value)
        if _is_number(value):
            return lambda actual: _is_number(actual) and compare(actual, value)
        raise RuleSyntaxError(path, f"{op} takes a number or a string")

    return build


op_gt = _ordering("gt", lambda a, b: a > b)
op_gte = _ordering("gte", lambda a, b: a >= b)
op_lt = _ordering("lt", lambda a, b: a < b)
op_lte = _ordering("lte", lambda a, b: a <= b)


@functools.lru_cache(maxsize=65_536)
def _ip_number(text: str) -> tuple[int, int] | None:
    """(IP version, the address as an integer), or None for text that is no address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def op_cidr(value: Any, ignore_case: bool, path: str) -> Test:
    raw = value if isinstance(value, list) else [value]
    if not raw or len(raw) > MAX_IN_VALUES:
        raise RuleSyntaxError(path, "cidr takes a network like 10.0.0.0/8, or a list of them")
    networks = []
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]" if isinstance(value, list) else path
        if not isinstance(item, str):
            raise RuleSyntaxError(item_path, "must be a network like 10.0.0.0/8")
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError as error:
            raise RuleSyntaxError(item_path, f"not a network: {error}") from error
        # What `address in network` compares, as plain integers (a third of the time).
        networks.append((network.version, int(network.network_address), int(network.netmask)))
    found = tuple(networks)

    def test(actual: Any) -> bool:
        if not isinstance(actual, str) or len(actual) > 64:
            return False
        parsed = _ip_number(actual)
        if parsed is None:
            return False
        version, number = parsed
        for network_version, network_number, mask in found:
            if version == network_version and number & mask == network_number:
                return True
        return False

    return test


def op_exists(value: Any, ignore_case: bool, path: str) -> Test:
    if not isinstance(value, bool):
        raise RuleSyntaxError(path, "exists takes true or false")
    if value:
        return lambda actual: actual is not MISSING and actual is not None
    return lambda actual: actual is MISSING or actual is None


def op_eq_field(value: Any, ignore_case: bool, path: str) -> Callable[[Any, Any], bool]:
    """Two fields of one event hold equal values (Sigma's `fieldref`). The value names
    the other field; conditions.py reads both. Absent or null on either side: no match."""
    if not isinstance(value, str) or not value:
        raise RuleSyntaxError(path, "eq_field takes the name of another field")

    def compare(actual: Any, other: Any) -> bool:
        if actual is MISSING or other is MISSING or actual is None or other is None:
            return False
        if isinstance(actual, str):
            if not isinstance(other, str):
                return False
            return actual.casefold() == other.casefold() if ignore_case else actual == other
        if isinstance(actual, bool) or isinstance(other, bool):
            return actual is other
        return _is_number(actual) and _is_number(other) and actual == other

    return compare


# Operators whose value names a second field of the same event.
FIELD_OPERATORS: dict[str, Callable[[Any, bool, str], Callable[[Any, Any], bool]]] = {
    "eq_field": op_eq_field,
}

OPERATORS: dict[str, Callable[[Any, bool, str], Test]] = {
    "eq": op_eq,
    "ne": op_ne,
    "in": op_in,
    "contains": op_contains,
    "startswith": op_startswith,
    "endswith": op_endswith,
    "regex": op_regex,
    "gt": op_gt,
    "gte": op_gte,
    "lt": op_lt,
    "lte": op_lte,
    "cidr": op_cidr,
    "exists": op_exists,
}
