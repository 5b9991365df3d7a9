"""The intake endpoints on the direct ASGI path answer exactly as their DRF views do."""

import gzip
import json
from collections.abc import Mapping
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from secalerts.accounts.api_keys import create_key
from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.ingest.writer import Request, write_group
from secalerts.intake import direct
from security_backend.asgi import application

# The direct path writes in a worker thread and commits.
pytestmark = pytest.mark.django_db(transaction=True)

LOGHUB = "loghub_openssh/OpenSSH_2k_lines0001-1000.log"
HEADERS_COMPARED = ("content-type", "www-authenticate", "retry-after")
LINE = "Dec 10 06:55:46 web-1 sshd[24200]: Failed password for root from 203.0.113.9 port 22"
RECORDS = "\n".join(
    json.dumps({"message": LINE, "host": f"web-{n}", "timestamp": "2026-12-01T06:55:46Z"})
    for n in range(5)
)
ECS = json.dumps(
    [
        {"@timestamp": "2026-12-01T06:55:46Z", "event": {"action": "ssh_login"},
         "host": {"name": "web-1"}, "source": {"ip": "203.0.113.9"}, "user": {"name": "root"}},
        {"@timestamp": "2026-12-01T06:55:47Z", "host.name": "fw-1", "log.level": "warning",
         "event.category": "network", "event.type": "denied"},
    ]
)  # fmt: skip


@pytest.fixture(autouse=True)
def _close_connections_after_each_request(monkeypatch):
    # Each request of the direct path runs on a loop whose threads end with it: their
    # connections must close at request end, not with the thread.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)


def direct_post(path: str, body: bytes, content_type: str, headers: dict[str, str]) -> dict:
    sent = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    sent += [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def send() -> Mapping[str, Any]:
        communicator = HttpCommunicator(application, "POST", path, body, sent)
        return await communicator.get_response(timeout=30)

    response = async_to_sync(send)()
    names = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    assert "allow" not in names  # DRF's header: served by the direct path, not the fallback
    return _answer(response["status"], response["body"], names)


def drf_post(path: str, body: bytes, content_type: str, headers: dict[str, str]) -> dict:
    extra: dict[str, Any] = {
        "HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()
    }
    response = APIClient().post(path, body, content_type=content_type, **extra)
    names = {name.lower(): value for name, value in response.headers.items()}
    return _answer(response.status_code, response.content, names)


def _answer(status: int, body: bytes, headers: dict[str, str]) -> dict:
    return {
        "status": status,
        "body": json.loads(body),
        "headers": {name: headers.get(name) for name in HEADERS_COMPARED},
        "stored": Event.objects.count(),
    }


def both(path: str, body: bytes, content_type: str, headers: dict[str, str]) -> tuple:
    """Each path's answer, each from the same clean state (alert ids are not compared:
    the two databases' sequences differ)."""
    direct_answer = direct_post(path, body, content_type, headers)
    Alert.objects.all().delete()
    Event.objects.all().delete()
    drf_answer = drf_post(path, body, content_type, headers)
    for answer in (direct_answer, drf_answer):
        if isinstance(answer["body"].get("alerts"), list):
            answer["body"]["alerts"] = len(answer["body"]["alerts"])
    return direct_answer, drf_answer


def good_bodies(dataset_dir) -> dict[str, tuple[str, bytes, str, dict[str, str]]]:
    lines = (dataset_dir / LOGHUB).read_bytes()
    return {
        "loghub lines": ("/api/intake/syslog/", lines, "text/plain", {}),
        "gzip lines": (
            "/api/intake/syslog/",
            gzip.compress(lines),
            "text/plain; charset=utf-8",
            {"Content-Encoding": "gzip"},
        ),
        "ndjson records": ("/api/intake/syslog/", RECORDS.encode(), "application/x-ndjson", {}),
        "ecs documents": ("/api/intake/ecs/", ECS.encode(), "application/json", {}),
    }


@pytest.mark.parametrize("name", ["loghub lines", "gzip lines", "ndjson records", "ecs documents"])
def test_a_good_body_gets_one_answer_from_both_intake_paths(name, dataset_dir, admin_user, bearer):
    path, body, content_type, headers = good_bodies(dataset_dir)[name]
    headers = headers | {"Authorization": bearer(admin_user)}

    direct_answer, drf_answer = both(path, body, content_type, headers)

    assert direct_answer["status"] == 201, direct_answer
    assert direct_answer["stored"] > 0
    assert direct_answer == drf_answer


TOO_MANY = b"".join(b"line %d\n" % n for n in range(settings.EVENTS_MAX_BATCH + 1))
BAD_BODIES = {
    "empty text": ("/api/intake/syslog/", b"", "text/plain", {}),
    "empty ecs": ("/api/intake/ecs/", b"", "application/json", {}),
    "over the batch limit": ("/api/intake/syslog/", TOO_MANY, "text/plain", {}),
    "malformed json": ("/api/intake/ecs/", b'[{"host": ', "application/json", {}),
    "malformed records": ("/api/intake/syslog/", b'{"message": \n', "application/x-ndjson", {}),
    "non-object ecs item": ("/api/intake/ecs/", b'[{"host": {"name": "a"}}, 5]',
                            "application/json", {}),
    "wrong content type": ("/api/intake/ecs/", ECS.encode(), "application/xml", {}),
    "unknown content encoding": ("/api/intake/syslog/", b"a line\n", "text/plain",
                                 {"Content-Encoding": "br"}),
    "malformed gzip": ("/api/intake/syslog/", b"not gzip", "text/plain",
                       {"Content-Encoding": "gzip"}),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD_BODIES)
def test_a_bad_body_gets_one_answer_from_both_intake_paths(name, admin_user, bearer):
    path, body, content_type, headers = BAD_BODIES[name]
    headers = headers | {"Authorization": bearer(admin_user)}

    direct_answer, drf_answer = both(path, body, content_type, headers)

    assert 400 <= direct_answer["status"] < 500, direct_answer
    assert direct_answer["stored"] == 0
    assert direct_answer == drf_answer


def _ingest_key() -> str:
    return "Bearer " + create_key(name="shipper", scopes=["ingest"], created_by=None)[1]


def _wrong_key() -> str:
    return _ingest_key()[:-2] + "xx"


CREDENTIALS = {
    "none": (lambda user, bearer: None, 401),
    "bad token": (lambda user, bearer: "Bearer not.a.token", 401),
    "no role": (lambda user, bearer: bearer(user), 403),
    "key with a wrong secret": (lambda user, bearer: _wrong_key(), 401),
    "ingest key": (lambda user, bearer: _ingest_key(), 201),
}


@pytest.mark.parametrize("path", ["/api/intake/syslog/", "/api/intake/ecs/"])
@pytest.mark.parametrize("kind", CREDENTIALS)
def test_a_credential_gets_one_answer_from_both_intake_paths(kind, path, norole_user, bearer):
    make, status = CREDENTIALS[kind]
    header = make(norole_user, bearer)
    headers = {"Authorization": header} if header else {}
    body = LINE.encode() if path.endswith("syslog/") else ECS.encode()
    content_type = "text/plain" if path.endswith("syslog/") else "application/json"

    direct_answer, drf_answer = both(path, body, content_type, headers)

    assert direct_answer["status"] == status, direct_answer
    assert direct_answer == drf_answer


def test_intake_and_events_requests_written_together_keep_their_own_answers(admin_user, bearer):
    auth = {b"authorization": bearer(admin_user).encode()}
    lines = Request(auth | {b"content-type": b"text/plain"}, b"a line\nanother\n",
                    direct.read_syslog)  # fmt: skip
    event = {"event_type": "vpn.login_failed", "source": "vpn"}
    events = Request(auth | {b"content-type": b"application/json"}, json.dumps([event]).encode())

    outcomes = write_group([lines, events, lines])

    assert [(o.status, o.body) for o in outcomes] == [
        (201, {"accepted": 2, "duplicates": 0, "unparsed": 2, "alerts": []}),
        (201, {"accepted": 1, "duplicates": 0, "alerts": []}),
        # The same body again in one group: its ids were claimed by the first.
        (201, {"accepted": 0, "duplicates": 2, "unparsed": 2, "alerts": []}),
    ]
    assert Event.objects.count() == 3
