"""API keys as a sensor and an Admin see them: created once, ingest only, revoked at once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from secalerts.accounts import identity
from secalerts.accounts.api_keys import create_key
from secalerts.accounts.models import ApiKey
from secalerts.events.models import Event
from secalerts.events.tests.asgi_client import post_events

# The direct ingest path writes in its own transaction.
pytestmark = pytest.mark.django_db(transaction=True)

EVENT = {"event_type": "sensor.heartbeat", "source": "ids-1"}


def make_key(**extra) -> str:
    fields = {"name": "ids-1", "scopes": ["ingest"], "created_by": None} | extra
    return create_key(**fields)[1]


def test_an_admin_creates_a_key_that_is_shown_once_and_stored_hashed(
    api_client, admin_user, bearer
):
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}

    created = api_client.post(
        reverse("accounts:keys"),
        {"name": "vector on web-1", "scopes": ["ingest"], "source": "web-1"},
        format="json",
        **auth,
    )
    listed = api_client.get(reverse("accounts:keys"), **auth)
    one = api_client.get(reverse("accounts:key", args=[created.json()["id"]]), **auth)

    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(f"sak_{body['prefix']}_")
    assert len(body["key"]) >= 4 + 8 + 1 + 43  # 256 bits of secret
    assert body["created_by"] == admin_user.username
    assert (body["source"], body["scopes"], body["last_used_at"]) == ("web-1", ["ingest"], None)
    assert "key" not in listed.json()[0]
    assert "key" not in one.json()
    # The secret is what follows "sak_<prefix>_" (it may hold "_" itself).
    secret = body["key"].removeprefix(f"sak_{body['prefix']}_")
    stored = ApiKey.objects.values_list("secret_hash", flat=True).get()
    assert secret not in stored
    assert body["key"] not in str(list(ApiKey.objects.values()))


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "scopes": ["ingest"]},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["ingest"], "expires_at": "2000-01-01T00:00:00Z"},
    ],
)
def test_bad_key_requests_get_400_and_create_nothing(api_client, admin_user, bearer, body):
    response = api_client.post(
        reverse("accounts:keys"), body, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 400
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_key_ingests_through_the_direct_path_with_its_default_source(header):
    key = make_key(source="ids-1")
    authorization = f"Bearer {key}" if header == "authorization" else None
    extra = {"X-API-Key": key} if header == "x-api-key" else {}

    status, body = post_events(
        {"event_type": "ids.alert", "severity": "high"}, authorization, headers=extra
    )

    assert status == 201, body
    assert body["source"] == "ids-1"
    assert body["received_by"] == {"kind": "api_key", "name": "ids-1"}
    stored = Event.objects.get()
    assert (stored.source, stored.received_by) == ("ids-1", body["received_by"])


def test_a_key_without_a_default_source_still_needs_one():
    status, body = post_events({"event_type": "ids.alert"}, f"Bearer {make_key()}")

    assert (status, body["errors"]) == (400, {"source": ["This field is required."]})


def test_a_key_may_only_ingest(api_client):
    key = {"HTTP_AUTHORIZATION": f"Bearer {make_key()}"}

    ingest = api_client.post(reverse("events:list"), EVENT, format="json", **key)
    read = api_client.get(reverse("events:list"), **key)
    me = api_client.get(reverse("accounts:me"), **key)
    keys = api_client.get(reverse("accounts:keys"), **key)

    assert ingest.status_code == 201
    assert [read.status_code, me.status_code, keys.status_code] == [403, 403, 403]


def test_a_revoked_or_expired_key_is_refused_from_the_next_request(api_client, admin_user, bearer):
    key = make_key()
    assert post_events(EVENT, f"Bearer {key}")[0] == 201
    key_id = ApiKey.objects.get().pk

    revoked = api_client.delete(
        reverse("accounts:key", args=[key_id]), HTTP_AUTHORIZATION=bearer(admin_user)
    )
    status, body = post_events(EVENT, f"Bearer {key}")
    expiring = make_key(name="short", expires_at=timezone.now() + timedelta(minutes=1))
    ApiKey.objects.filter(name="short").update(expires_at=timezone.now() - timedelta(seconds=1))

    assert revoked.status_code == 204
    assert ApiKey.objects.get(pk=key_id).revoked_at is not None
    assert (status, body["code"]) == (401, "api_key_not_valid")
    assert post_events(EVENT, f"Bearer {expiring}")[1]["code"] == "api_key_not_valid"


@pytest.mark.parametrize(
    "mangle",
    [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), lambda k: k[:12], lambda k: "sak_"],
)
def test_a_wrong_or_malformed_key_gets_401(mangle):
    status, body = post_events(EVENT, f"Bearer {mangle(make_key())}")

    assert (status, body["code"]) == (401, "api_key_not_valid")
    assert not Event.objects.exists()


def test_last_used_at_is_written_at_most_once_a_minute(monkeypatch):
    key = make_key()
    post_events(EVENT, f"Bearer {key}")
    first = ApiKey.objects.get().last_used_at
    post_events(EVENT, f"Bearer {key}")
    second = ApiKey.objects.get().last_used_at
    later = timezone.now() + identity.KEY_USE_RESOLUTION
    monkeypatch.setattr(identity.timezone, "now", lambda: later)
    post_events(EVENT, f"Bearer {key}")

    assert first is not None
    assert second == first
    assert ApiKey.objects.get().last_used_at == later


def test_the_management_command_prints_a_working_key():
    out = StringIO()
    call_command(
        "create_api_key", "rsyslog on gw-1", "--source", "gw-1", "--expires-days", "30", stdout=out
    )
    key = out.getvalue().strip()

    status, body = post_events({"event_type": "fw.drop"}, f"Bearer {key}")

    assert status == 201, body
    assert body["source"] == "gw-1"
    expires_at = ApiKey.objects.get().expires_at
    assert expires_at is not None
    assert expires_at > timezone.now() + timedelta(days=29)
