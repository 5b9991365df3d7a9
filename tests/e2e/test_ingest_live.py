"""POST /api/events/ on a real Daphne (the direct ASGI path) answers as the DRF view does."""

import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError

import pytest
from django.urls import reverse

from secalerts.events.models import Event

GOOD = {"event_type": "auth.failure", "source": "fw-1", "source_ip": "203.0.113.9"}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


CASES = [
    ("single", json.dumps(GOOD), "application/json"),
    ("batch", json.dumps([GOOD, GOOD | {"severity": "high"}]), "application/json"),
    ("ndjson", json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n", "application/x-ndjson"),
    ("bad item", json.dumps([GOOD, GOOD | {"source_ip": "x"}]), "application/json"),
    ("unknown field", json.dumps(GOOD | {"extra": 1}), "application/json"),
    ("malformed", '{"event_type": ', "application/json"),
    ("media type", json.dumps(GOOD), "text/plain"),
    ("empty", "[]", "application/json"),
]


def comparable(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in {"id", "received_at", "timestamp", "alerts"}}


@pytest.mark.parametrize(("name", "body", "content_type"), CASES, ids=[c[0] for c in CASES])
def test_direct_path_matches_the_drf_view(
    start_daphne, api_client, analyst_user, bearer, name, body, content_type
):
    base = start_daphne()
    header = bearer(analyst_user)

    live_status, live_body, _ = post(
        f"{base}/api/events/",
        body.encode(),
        {"Content-Type": content_type, "Authorization": header},
    )
    drf = api_client.post(
        reverse("events:list"), body, content_type=content_type, HTTP_AUTHORIZATION=header
    )

    assert live_status == drf.status_code
    assert comparable(live_body) == comparable(drf.json())


def test_direct_path_authentication_and_limits(start_daphne, analyst_user, norole_user, bearer):
    base = start_daphne(EVENTS_MAX_BODY_BYTES="2000")
    url = f"{base}/api/events/"
    json_type = {"Content-Type": "application/json"}
    body = json.dumps(GOOD).encode()

    anonymous = post(url, body, json_type)
    garbage = post(url, body, json_type | {"Authorization": "Bearer not.a.token"})
    norole = post(url, body, json_type | {"Authorization": bearer(norole_user)})
    too_big = post(
        url, json.dumps([GOOD] * 40).encode(), json_type | {"Authorization": bearer(analyst_user)}
    )

    assert anonymous[0] == 401
    assert anonymous[2]["WWW-Authenticate"].startswith("Bearer")
    assert garbage[0] == 401
    assert norole[0] == 403
    assert too_big[0] == 413
    assert Event.objects.count() == 0


def test_retry_with_the_same_ids_stores_each_event_once(start_daphne, analyst_user, bearer):
    base = start_daphne()
    headers = {"Content-Type": "application/json", "Authorization": bearer(analyst_user)}
    batch = json.dumps([GOOD | {"id": str(uuid.uuid4())} for _ in range(50)]).encode()

    first = post(f"{base}/api/events/", batch, headers)
    second = post(f"{base}/api/events/", batch, headers)

    assert first[:2] == (201, {"accepted": 50, "duplicates": 0, "alerts": first[1]["alerts"]})
    assert second[1]["duplicates"] == 50
    assert Event.objects.count() == 50


def test_concurrent_single_events_are_each_stored_once_and_answered(
    start_daphne, analyst_user, bearer
):
    """Requests that arrive together are written together (ingest.group_commit); each
    still gets its own answer, and a retried id is stored once whichever copy wins."""
    base = start_daphne()
    headers = {"Content-Type": "application/json", "Authorization": bearer(analyst_user)}
    ids = [str(uuid.uuid4()) for _ in range(30)]
    bodies = [json.dumps(GOOD | {"id": i}).encode() for i in ids for _ in range(2)]
    bodies.append(json.dumps(GOOD | {"source_ip": "x"}).encode())

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda b: post(f"{base}/api/events/", b, headers), bodies))

    by_id: dict[str, list[int]] = {}
    for status, body, _ in answers[:-1]:
        by_id.setdefault(body["id"], []).append(status)
    assert {i: sorted(s) for i, s in by_id.items()} == {i: [200, 201] for i in ids}
    assert answers[-1][0] == 400
    assert Event.objects.count() == 30
