"""One front door: every entry point gives the same answer to the same bad credential or
error (status, JSON body and headers), through the full ASGI application."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from conftest import PASSWORD
from secalerts.accounts.api_keys import create_key, revoke_key
from secalerts.accounts.models import ApiKey
from secalerts.accounts.roles import Role
from secalerts.accounts.services import create_user_with_role
from secalerts.accounts.tests.bad_tokens import BAD_TOKENS
from security_backend.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_connections_after_each_request(monkeypatch):
    # Each test has its own event loop, whose executor threads serve Django's requests
    # and end with it: their connections must close at request end, not with the thread.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)


EVENT = json.dumps({"event_type": "door.test", "source": "parity"}).encode()
HEADERS_COMPARED = ("content-type", "www-authenticate", "retry-after")


def _signed(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")


def _with_claims(user, **changes: Any) -> str:
    claims = dict(AccessToken.for_user(user).payload) | changes
    return _signed({k: v for k, v in claims.items() if v is not None})


# Each: (header for the user, the user's fate) -> the same answer everywhere.
def _password_changed(user) -> str:
    header = f"Bearer {AccessToken.for_user(user)}"
    user.set_password(PASSWORD + "-new")
    user.save()
    return header


def _deactivated(user) -> str:
    header = f"Bearer {AccessToken.for_user(user)}"
    user.is_active = False
    user.save()
    return header


def _deleted(user) -> str:
    header = f"Bearer {AccessToken.for_user(user)}"
    user.delete()
    return header


def _bearer(make: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda user: f"Bearer {make(user)}"


def _key(**extra: Any) -> str:
    return create_key(name="door key", scopes=["ingest"], created_by=None, **extra)[1]


def _revoked_key(user) -> str:
    key = _key()
    revoke_key(key_id=ApiKey.objects.get(name="door key").pk)
    return f"Bearer {key}"


def _expired_key(user) -> str:
    key = _key(expires_at=timezone.now() + timedelta(minutes=1))
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return f"Bearer {key}"


CREDENTIALS: dict[str, Callable[[Any], str | None]] = {
    "none": lambda user: None,
    "another scheme": lambda user: "Basic dXNlcjpwYXNz",
    "bearer alone": lambda user: "Bearer",
    "three values": lambda user: "Bearer a b",
    **{kind: _bearer(make) for kind, make in BAD_TOKENS.items()},
    "exp as text": lambda user: f"Bearer {_with_claims(user, exp=str(AccessToken.for_user(user)['exp']))}",
    "user_id a list": lambda user: f"Bearer {_with_claims(user, user_id=[user.pk])}",
    "user_id a bool": lambda user: f"Bearer {_with_claims(user, user_id=True)}",
    "no revocation claim": lambda user: f"Bearer {_with_claims(user, hash_password=None)}",
    "password changed": _password_changed,
    "deactivated": _deactivated,
    "deleted": _deleted,
    "revoked key": _revoked_key,
    "expired key": _expired_key,
    "key with a wrong secret": lambda user: f"Bearer {_key()[:-2]}xx",
    "key with an unknown prefix": lambda user: "Bearer sak_00000000_" + "x" * 43,
    "malformed key": lambda user: "Bearer sak_1",
}  # fmt: skip


async def http(
    method: str,
    path: str,
    header: str | None,
    body: bytes = b"",
    content_type: str = "application/json",
) -> dict:
    sent = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    if header is not None:
        sent.append((b"authorization", header.encode("latin-1")))
    communicator = HttpCommunicator(application, method, path, body=body, headers=sent)
    response = await communicator.get_response(timeout=10)
    headers = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return _answer(response["status"], response["body"], headers)


def _answer(status: int, body: bytes, headers: dict[str, str]) -> dict:
    return {
        "status": status,
        "body": json.loads(body),
        "headers": {name: headers.get(name) for name in HEADERS_COMPARED},
    }


@database_sync_to_async
def drf_client_post(header: str | None, body: bytes, content_type: str) -> dict:
    """The DRF view of POST /api/events/ (what serves it when the direct path does not)."""
    client = APIClient()
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.post("/api/events/", body, content_type=content_type, **extra)
    headers = {name.lower(): value for name, value in response.headers.items()}
    return _answer(response.status_code, response.content, headers)


async def entry_points(header: str | None) -> dict[str, dict]:
    return {
        "direct ingest": await http("POST", "/api/events/", header, EVENT),
        "DRF ingest": await drf_client_post(header, EVENT, "application/json"),
        "DRF alerts": await http("GET", "/api/alerts/", header),
        "DRF rules": await http("GET", "/api/rules/", header),
    }


async def stream_close_code(header: str | None) -> int | None:
    token = header.split(" ", 1)[1] if header and header.startswith("Bearer ") else None
    path = "/ws/alerts/" + (f"?token={token}" if token else "")
    communicator = WebsocketCommunicator(application, path)
    await communicator.connect()
    message = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    return message.get("code") if message["type"] == "websocket.close" else None


@database_sync_to_async
def credential(kind: str) -> str | None:
    user = create_user_with_role(username="door", password=PASSWORD, role=Role.ANALYST)
    return CREDENTIALS[kind](user)


@pytest.mark.parametrize("kind", CREDENTIALS)
async def test_a_bad_credential_gets_one_answer_everywhere(kind):
    header = await credential(kind)

    answers = await entry_points(header)

    first = answers["direct ingest"]
    assert first["status"] == 401, first
    assert first["headers"]["www-authenticate"] == 'Bearer realm="api"'
    assert set(first["body"]) == {"detail", "code"}
    assert answers == dict.fromkeys(answers, first)
    if header is None or (header.startswith("Bearer ") and len(header.split()) == 2):
        assert await stream_close_code(header) == 4401


async def test_a_user_without_role_gets_403_everywhere(norole_user, bearer):
    header = bearer(norole_user)
    assert await stream_close_code(header) == 4403

    answers = await entry_points(header)

    first = answers["direct ingest"]
    assert first["status"] == 403
    assert first["body"] == {
        "detail": "You do not have permission to perform this action.",
        "code": "permission_denied",
    }
    assert answers == dict.fromkeys(answers, first)


async def test_an_ingest_key_gets_403_on_reads_and_4403_on_the_stream():
    header = f"Bearer {await database_sync_to_async(_key)()}"

    reads = [await http("GET", path, header) for path in ("/api/alerts/", "/api/rules/")]

    assert [read["status"] for read in reads] == [403, 403]
    assert reads[0] == reads[1]
    assert await stream_close_code(header) == 4403


BAD_BODIES = {
    "malformed json": (b'{"event_type": ', "application/json"),
    "unknown content type": (EVENT, "application/xml"),
    "invalid event": (b'{"event_type": "Bad Type", "source": ""}', "application/json"),
    "empty batch": (b"[]", "application/json"),
}


@pytest.mark.parametrize("name", BAD_BODIES)
async def test_a_bad_body_gets_one_answer_from_both_ingest_paths(name, analyst_user, bearer):
    header = bearer(analyst_user)
    body, content_type = BAD_BODIES[name]

    direct = await http("POST", "/api/events/", header, body, content_type)
    drf = await drf_client_post(header, body, content_type)

    assert 400 <= direct["status"] < 500
    assert direct == drf
