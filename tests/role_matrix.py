"""Vocabulary of the role-matrix test: actors, policies (DESIGN.md "Roles"), and rows."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANON, NOROLE, ANALYST, ADMIN = "anonymous", "no role", "analyst", "admin"
KEY = "ingest API key"

# Expected status per actor for each kind of access in DESIGN.md "Roles".
# An API key with scope `ingest` may only ingest.
POLICIES: dict[str, dict[str, int]] = {
    "identity": {ANON: 401, NOROLE: 200, ANALYST: 200, ADMIN: 200, KEY: 403},
    "read": {ANON: 401, NOROLE: 403, ANALYST: 200, ADMIN: 200, KEY: 403},
    "ingest": {ANON: 401, NOROLE: 403, ANALYST: 201, ADMIN: 201, KEY: 201},
    "admin_read": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 200, KEY: 403},
    "admin_create": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 201, KEY: 403},
    "admin_change": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 200, KEY: 403},
    "admin_delete": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 204, KEY: 403},
}


def _nothing(context: Any = None) -> None:
    return None


@dataclass(frozen=True)
class Row:
    """One route and method. `setup()` makes the rows it needs and returns a context that
    `url`, `body` and `state` receive; `state(context)` snapshots what a refused write
    must leave untouched."""

    route: str  # the URL pattern as Django shows it, e.g. "api/alerts/<id:pk>/"
    method: str
    policy: str
    url: Callable[[Any], str]
    body: Callable[[Any], object] = field(default=_nothing)
    state: Callable[[Any], object] = field(default=_nothing)
    setup: Callable[[], Any] = field(default=_nothing)
