"""DESIGN.md's role matrix, walked over every API route: each route needs a row here."""

from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from secalerts.accounts.api_keys import create_key
from secalerts.accounts.tests.role_matrix import ROWS as ACCOUNT_ROWS
from secalerts.alerts.tests.role_matrix import ROWS as ALERT_ROWS
from secalerts.events.tests.role_matrix import ROWS as EVENT_ROWS
from secalerts.intake.tests.role_matrix import ROWS as INTAKE_ROWS
from secalerts.notifications.tests.role_matrix import ROWS as NOTIFICATION_ROWS
from secalerts.rules.tests.role_matrix import ROWS as RULE_ROWS
from secalerts.sigma.tests.role_matrix import ROWS as SIGMA_ROWS
from secalerts.tuning.tests.role_matrix import ROWS as TUNING_ROWS
from tests.role_matrix import ADMIN, ANALYST, ANON, KEY, NOROLE, POLICIES, Row

# Routes whose access is by credentials, not by role (login, refresh, logout).
CREDENTIAL_ROUTES = {"api/token/", "api/token/refresh/", "api/token/blacklist/"}

ROWS: list[Row] = [
    Row("api/me/", "get", "identity", lambda _: reverse("accounts:me")),
    *ACCOUNT_ROWS,
    *EVENT_ROWS,
    *RULE_ROWS,
    *SIGMA_ROWS,
    *ALERT_ROWS,
    *INTAKE_ROWS,
    *TUNING_ROWS,
    *NOTIFICATION_ROWS,
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
        KEY: {"HTTP_X_API_KEY": create_key(name="sensor", scopes=["ingest"], created_by=None)[1]},
    }


@pytest.mark.parametrize("actor", [ANON, NOROLE, ANALYST, ADMIN, KEY])
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method.upper()} {row.route}")
def test_role_matrix(api_client, actors, row, actor):
    context = row.setup()
    before = row.state(context)

    response = getattr(api_client, row.method)(
        row.url(context), row.body(context), format="json", **actors[actor]
    )

    expected = POLICIES[row.policy][actor]
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/json"
        assert row.state(context) == before
