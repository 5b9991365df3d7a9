"""`Content-Encoding: gzip` bodies on both ingest paths; limits apply to the inflated body."""

import gzip
import json

import pytest
from django.conf import settings
from django.urls import reverse

from secalerts.events.models import Event
from secalerts.events.tests.asgi_client import post_events

pytestmark = pytest.mark.django_db(transaction=True)

NDJSON = b"\n".join(
    json.dumps({"event_type": "fw.drop", "source": "gw-1", "message": f"packet {i}"}).encode()
    for i in range(50)
)
BOMB = gzip.compress(b"\n" * (settings.EVENTS_MAX_BODY_BYTES + 1))
BAD = {
    "zip bomb": (BOMB, "gzip", 413),
    "not gzip": (b"plain text, not gzip", "gzip", 400),
    "truncated": (gzip.compress(NDJSON)[:-10], "gzip", 400),
    "unknown encoding": (NDJSON, "br", 415),
}


def drf_post(api_client, header: str, body: bytes, encoding: str):
    return api_client.generic(
        "POST",
        reverse("events:list"),
        body,
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=header,
        HTTP_CONTENT_ENCODING=encoding,
    )


def test_a_gzip_ndjson_batch_is_stored_through_both_paths(api_client, analyst_user, bearer):
    header = bearer(analyst_user)
    body = gzip.compress(NDJSON)

    status, direct = post_events(
        body, header, "application/x-ndjson", headers={"Content-Encoding": "gzip"}
    )
    drf = drf_post(api_client, header, body, "gzip")

    assert (status, direct["accepted"]) == (201, 50)
    assert drf.status_code == 201
    assert drf.json()["accepted"] == 50
    assert Event.objects.count() == 100


@pytest.mark.parametrize("name", BAD)
def test_bad_compressed_bodies_get_the_same_4xx_on_both_paths(
    api_client, analyst_user, bearer, name
):
    header = bearer(analyst_user)
    body, encoding, expected = BAD[name]

    status, direct = post_events(
        body, header, "application/x-ndjson", headers={"Content-Encoding": encoding}
    )
    drf = drf_post(api_client, header, body, encoding)

    assert status == expected
    assert (drf.status_code, drf.json()) == (status, direct)
    assert not Event.objects.exists()
