"""Suppressions: covered matches raise and update no alert but are counted; expired
ones stop applying; bad ones are a 400; only Admin writes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.rules import registry
from secalerts.rules.services import create_rule
from secalerts.tuning.models import Suppression
from secalerts.tuning.tests.helpers import FAILURE, event, ingest, post

pytestmark = pytest.mark.django_db


def later(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def suppress(api_client, bearer, user, **fields):
    body = {"reason": "known scanner", "expires_at": later(days=7)} | fields
    return post(api_client, bearer, user, "suppressions", body)


@pytest.fixture
def brute():
    return create_rule(
        name="Suppressed brute force",
        severity="high",
        condition=FAILURE,
        group_by=["source_ip"],
        threshold={"count": 3, "window_seconds": 60},
    )


@pytest.fixture
def plain():
    return create_rule(name="Every failure", severity="low", condition=FAILURE)


def test_covered_matches_raise_nothing_and_are_counted(api_client, bearer, admin_user, brute):
    created = suppress(
        api_client, bearer, admin_user, rule=brute.pk, group={"source_ip": "10.0.0.5"}
    )
    assert created.status_code == 201, created.content

    ingest(api_client, bearer, admin_user, [event(i, source_ip="10.0.0.5") for i in range(4)])
    ingest(api_client, bearer, admin_user, [event(i, source_ip="10.0.0.6") for i in range(3)])

    alerts = Alert.objects.filter(rule=brute)
    assert list(alerts.values_list("group", flat=True)) == [{"source_ip": "10.0.0.6"}]
    assert Event.objects.count() == 7  # the events are stored all the same
    row = api_client.get(
        reverse("tuning:suppression", args=[created.json()["id"]]),
        HTTP_AUTHORIZATION=bearer(admin_user),
    ).json()
    assert row["hits"] == 1  # one window of four events
    assert row["last_hit_at"] is not None


def test_a_covered_match_does_not_update_an_open_alert(api_client, bearer, admin_user, brute):
    ingest(api_client, bearer, admin_user, [event(i, source_ip="10.0.0.5") for i in range(3)])
    alert = Alert.objects.get(rule=brute)
    suppress(api_client, bearer, admin_user, rule=brute.pk, group={"source_ip": "10.0.0.5"})

    ingest(api_client, bearer, admin_user, [event(10 + i, source_ip="10.0.0.5") for i in range(3)])

    alert.refresh_from_db()
    assert (Alert.objects.filter(rule=brute).count(), alert.event_count) == (1, 3)
    assert Suppression.objects.get().hits == 1


def test_a_condition_suppresses_the_events_it_holds_for(api_client, bearer, admin_user, plain):
    condition = {"field": "source_ip", "op": "cidr", "value": "192.168.0.0/16"}
    suppress(api_client, bearer, admin_user, condition=condition)

    ingest(
        api_client, bearer, admin_user,
        [event(0, source_ip="192.168.1.1"), event(1, source_ip="8.8.8.8"), event(2)],
    )  # fmt: skip

    assert set(Alert.objects.values_list("source_ip", flat=True)) == {None, "8.8.8.8"}
    assert Suppression.objects.get().hits == 1


def test_an_expired_suppression_stops_applying(api_client, bearer, admin_user, plain):
    suppress(api_client, bearer, admin_user, rule=plain.pk)
    ingest(api_client, bearer, admin_user, [event(0)])
    assert Alert.objects.count() == 0
    # Its time runs out: set in the database, as the clock would. (The stamp moves only
    # so this process's cache reads the back-dated row; expiry itself needs no stamp,
    # see test_split_compares_the_expiry_with_the_batch_time.)
    Suppression.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    registry.bump_version()

    ingest(api_client, bearer, admin_user, [event(1)])

    assert Alert.objects.count() == 1
    assert Suppression.objects.get().hits == 1


def test_split_compares_the_expiry_with_the_batch_time(api_client, bearer, admin_user, plain):
    from secalerts import detection
    from secalerts.tuning.suppressions import active_suppressions

    suppress(api_client, bearer, admin_user, rule=plain.pk, expires_at=later(hours=1))
    ruleset = registry.active_rules()
    now = timezone.now()
    cached = active_suppressions(ruleset.version, now=now)
    events = [{"timestamp": now, "event_type": "auth.failure"}]
    match = detection.Match(plain.pk, (), (0,), now, now)

    kept_now, hits_now = cached.split([match], events=events, ruleset=ruleset, now=now)
    kept_later, hits_later = cached.split(
        [match], events=events, ruleset=ruleset, now=now + timedelta(hours=2)
    )

    assert (kept_now, sum(hits_now.values())) == ([], 1)
    assert (kept_later, sum(hits_later.values())) == ([match], 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_at": None}, "expires_at"),
        ({"expires_at": later(days=91)}, "expires_at"),
        ({"expires_at": later(days=-1)}, "expires_at"),
        ({"condition": {"field": "nope", "op": "eq", "value": 1}}, "condition"),
        ({"group": ["source_ip"]}, "group"),
        ({"group": {"no_such_field": 1}}, "group"),
        ({}, "non_field_errors"),
    ],
)
def test_invalid_suppressions_are_a_400_naming_the_field(
    api_client, bearer, admin_user, fields, field
):
    if field != "non_field_errors" and "condition" not in fields and "group" not in fields:
        fields = {"condition": FAILURE} | fields
    if fields.get("expires_at", "") is None:
        body = {"reason": "x", "condition": FAILURE}
        response = post(api_client, bearer, admin_user, "suppressions", body)
    else:
        response = suppress(api_client, bearer, admin_user, **fields)

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body.get("errors", body), body
    assert not Suppression.objects.exists()


def test_patch_revalidates_and_delete_removes(api_client, bearer, admin_user, plain):
    row = suppress(api_client, bearer, admin_user, rule=plain.pk).json()
    url = reverse("tuning:suppression", args=[row["id"]])
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}

    bad = api_client.patch(url, {"expires_at": later(days=100)}, format="json", **auth)
    good = api_client.patch(url, {"reason": "scanner, ticket 42"}, format="json", **auth)
    gone = api_client.delete(url, **auth)

    assert (bad.status_code, good.status_code, gone.status_code) == (400, 200, 204)
    assert good.json()["reason"] == "scanner, ticket 42"
    assert not Suppression.objects.exists()


def test_analyst_reads_but_may_not_write(api_client, bearer, admin_user, analyst_user, plain):
    row = suppress(api_client, bearer, admin_user, rule=plain.pk).json()
    url = reverse("tuning:suppression", args=[row["id"]])
    auth = {"HTTP_AUTHORIZATION": bearer(analyst_user)}

    assert api_client.get(reverse("tuning:suppressions"), **auth).status_code == 200
    assert api_client.get(url, **auth).status_code == 200
    assert suppress(api_client, bearer, analyst_user, rule=plain.pk).status_code == 403
    assert api_client.patch(url, {"reason": "x"}, format="json", **auth).status_code == 403
    assert api_client.delete(url, **auth).status_code == 403
    assert Suppression.objects.get().reason == "known scanner"
