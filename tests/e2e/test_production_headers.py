"""A production-configured server sends the security headers `check --deploy` expects,
on Django's responses and on the direct ingest path alike."""

import json
import urllib.request
from urllib.error import HTTPError

KEY = "p" * 30 + "-production-secret-key-for-header-tests-0123456789"
EXPECTED = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def request(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, dict(response.headers)
    except HTTPError as error:
        return error.code, dict(error.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def token_signed_with(key: str, user) -> str:
    import jwt
    from rest_framework_simplejwt.tokens import AccessToken

    return jwt.encode(dict(AccessToken.for_user(user).payload), key, "HS256")


def test_production_server_sends_security_headers(start_daphne, analyst_user):
    base = start_daphne(DEBUG="false", SECRET_KEY=KEY, ALLOWED_HOSTS="127.0.0.1")
    behind_tls = {"X-Forwarded-Proto": "https"}
    event = json.dumps({"event_type": "auth.failure", "source": "fw"}).encode()

    plain = request(f"{base}/api/me/")
    health = request(f"{base}/healthz", headers=behind_tls)
    console = request(f"{base}/", headers=behind_tls)
    ingest = request(
        f"{base}/api/events/", "POST", event,
        behind_tls | {"Content-Type": "application/json",
                      "Authorization": f"Bearer {token_signed_with(KEY, analyst_user)}"},
    )  # fmt: skip

    assert plain[0] == 301  # plain HTTP is redirected to HTTPS
    assert plain[1]["Location"].startswith("https://")
    for status, headers in (health, ingest, console):
        assert status in {200, 201}
        for name, value in EXPECTED.items():
            assert headers.get(name) == value, (name, headers)
    assert console[1]["Content-Security-Policy"].startswith(
        "default-src 'self'; script-src 'self';"
    )
