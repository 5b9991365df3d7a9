"""A real Daphne server over a real socket: log in, call the API, check health."""

import json
import urllib.request
from urllib.error import HTTPError

from conftest import PASSWORD


def http(method: str, url: str, body: object = None, token: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def test_login_and_call_the_api_on_a_real_daphne(start_daphne, admin_user):
    base = start_daphne()

    status, tokens = http(
        "POST", f"{base}/api/token/", {"username": admin_user.username, "password": PASSWORD}
    )
    me_status, me = http("GET", f"{base}/api/me/", token=tokens["access"])
    anon_status, anon = http("GET", f"{base}/api/me/")
    health_status, health = http("GET", f"{base}/healthz")

    assert status == 200
    assert (me_status, me["username"], me["roles"]) == (200, admin_user.username, ["admin"])
    assert anon_status == 401
    assert "detail" in anon
    assert (health_status, health["status"]) == (200, "ok")
