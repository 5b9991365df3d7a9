"""DESIGN.md's role matrix, walked over every API route: each route needs a row here."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ANON, NOROLE, ANALYST, ADMIN = "anonymous", "no role", "analyst", "admin"

# Expected status per actor for each kind of access in DESIGN.md "Roles".
POLICIES: dict[str, dict[str, int]] = {
    "identity": {ANON: 401, NOROLE: 200, ANALYST: 200, ADMIN: 200},
    "read": {ANON: 401, NOROLE: 403, ANALYST: 200, ADMIN: 200},
    "ingest": {ANON: 401, NOROLE: 403, ANALYST: 201, ADMIN: 201},
    "admin_create": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 201},
    "admin_change": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 200},
    "admin_delete": {ANON: 401, NOROLE: 403, ANALYST: 403, ADMIN: 204},
}


@dataclass(frozen=True)
class Row:
    route: str  # the URL pattern as Django shows it, e.g. "api/me/"
    method: str
    policy: str
    url: Callable[[], str]
    body: Callable[[], object] = field(default=lambda: None)
    # Returns a snapshot of what a refused write must leave untouched.
    state: Callable[[], object] = field(default=lambda: None)


# Routes whose access is by credentials, not by role (login, refresh, logout).
CREDENTIAL_ROUTES = {"api/token/", "api/token/refresh/", "api/token/blacklist/"}

ROWS: list[Row] = [
    Row("api/me/", "get", "identity", lambda: reverse("accounts:me")),
]


def api_routes(patterns=None, prefix: str = "") -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and "schema" not in route:
            yield route


def test_every_api_route_has_a_row_in_the_matrix():
    covered = {row.route for row in ROWS} | CREDENTIAL_ROUTES

    missing = sorted(set(api_routes()) - covered)

    assert missing == [], f"add role-matrix rows for {missing}"


@pytest.fixture
def actors(admin_user, analyst_user, norole_user, bearer) -> dict[str, dict[str, str]]:
    return {
        ANON: {},
        NOROLE: {"HTTP_AUTHORIZATION": bearer(norole_user)},
        ANALYST: {"HTTP_AUTHORIZATION": bearer(analyst_user)},
        ADMIN: {"HTTP_AUTHORIZATION": bearer(admin_user)},
    }


@pytest.mark.parametrize("actor", [ANON, NOROLE, ANALYST, ADMIN])
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method.upper()} {row.route}")
def test_role_matrix(api_client, actors, row, actor):
    before = row.state()

    response = getattr(api_client, row.method)(
        row.url(), row.body(), format="json", **actors[actor]
    )

    expected = POLICIES[row.policy][actor]
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/json"
        assert row.state() == before
