"""PATCH /api/alerts/{id}/ and bulk PATCH /api/alerts/: workflow, history, all-or-nothing."""

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert, AlertHistory, AlertStatus
from secalerts.alerts.tests.factories import AlertFactory, EventFactory


def patch(api_client, user, bearer, url, body):
    return api_client.patch(url, body, format="json", HTTP_AUTHORIZATION=bearer(user))


def test_admin_acknowledges_assigns_and_history_records_it(
    api_client, admin_user, analyst_user, bearer
):
    alert = AlertFactory()
    url = reverse("alerts:detail", args=[alert.pk])

    response = patch(
        api_client,
        admin_user,
        bearer,
        url,
        {"status": "acknowledged", "assigned_to": analyst_user.username, "note": "on it"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["assigned_to"] == analyst_user.username
    assert [
        (h["field"], h["old_value"], h["new_value"], h["note"], h["actor"]) for h in body["history"]
    ] == [
        ("status", "open", "acknowledged", "on it", admin_user.username),
        ("assigned_to", None, analyst_user.username, "on it", admin_user.username),
    ]
    history = api_client.get(
        reverse("alerts:history", args=[alert.pk]), HTTP_AUTHORIZATION=bearer(analyst_user)
    )
    assert len(history.json()) == 2  # fmt: skip


def test_detail_lists_linked_event_ids(api_client, analyst_user, bearer):
    alert = AlertFactory()
    events = [EventFactory() for _ in range(3)]
    alert.events.add(*events)

    body = api_client.get(
        reverse("alerts:detail", args=[alert.pk]), HTTP_AUTHORIZATION=bearer(analyst_user)
    ).json()

    assert sorted(body["events"]) == sorted(str(e.pk) for e in events)


@pytest.mark.parametrize(
    ("start", "target"),
    [("acknowledged", "open"), ("resolved", "acknowledged"), ("false_positive", "resolved")],
)
def test_invalid_transition_is_400_and_changes_nothing(
    api_client, admin_user, bearer, start, target
):
    alert = AlertFactory(status=start)

    response = patch(
        api_client,
        admin_user,
        bearer,
        reverse("alerts:detail", args=[alert.pk]),
        {"status": target},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_transition"
    alert.refresh_from_db()
    assert alert.status == start
    assert not AlertHistory.objects.exists()


def test_reopen_after_resolve(api_client, admin_user, bearer):
    alert = AlertFactory(status=AlertStatus.RESOLVED)

    response = patch(
        api_client,
        admin_user,
        bearer,
        reverse("alerts:detail", args=[alert.pk]),
        {"status": "open"},
    )

    assert response.json()["status"] == "open"


def test_analyst_cannot_change_alert_status(api_client, analyst_user, bearer):
    alert = AlertFactory(status=AlertStatus.OPEN)

    response = patch(
        api_client,
        analyst_user,
        bearer,
        reverse("alerts:detail", args=[alert.pk]),
        {"status": "resolved"},
    )

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AlertHistory.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "closed"}, {"assigned_to": "nobody"}, {"assigned_to": "carol-norole"},
     {"assigned_to": 5}, [1]],
)  # fmt: skip
def test_bad_update_bodies_are_400(api_client, admin_user, norole_user, bearer, body):
    alert = AlertFactory()

    response = patch(
        api_client, admin_user, bearer, reverse("alerts:detail", args=[alert.pk]), body
    )

    assert response.status_code == 400
    assert Alert.objects.get().status == "open"
    assert Alert.objects.get().assigned_to is None


def test_unassign_and_note_only(api_client, admin_user, bearer):
    alert = AlertFactory(assigned_to=admin_user)
    url = reverse("alerts:detail", args=[alert.pk])

    patch(api_client, admin_user, bearer, url, {"assigned_to": None})
    body = patch(api_client, admin_user, bearer, url, {"note": "called the owner"}).json()

    assert body["assigned_to"] is None
    assert [h["field"] for h in body["history"]] == ["assigned_to", "note"]


def test_unknown_alert_is_404(api_client, admin_user, bearer):
    assert (
        patch(
            api_client,
            admin_user,
            bearer,
            reverse("alerts:detail", args=[999]),
            {"status": "resolved"},
        ).status_code
        == 404
    )


def test_bulk_update_changes_all(api_client, admin_user, bearer):
    alerts = [AlertFactory() for _ in range(3)]

    response = patch(
        api_client,
        admin_user,
        bearer,
        reverse("alerts:list"),
        {"ids": [a.pk for a in alerts], "status": "resolved", "note": "batch"},
    )

    assert response.status_code == 200
    assert response.json() == {"updated": 3}
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
    assert AlertHistory.objects.filter(note="batch").count() == 3  # fmt: skip


@pytest.mark.parametrize("problem", ["unknown id", "bad transition"])
def test_bulk_update_is_all_or_nothing(api_client, admin_user, bearer, problem):
    alerts = [AlertFactory() for _ in range(3)]
    ids = [a.pk for a in alerts]
    if problem == "unknown id":
        ids.append(999_999)
    else:
        Alert.objects.filter(pk=alerts[2].pk).update(status="acknowledged")

    response = patch(
        api_client, admin_user, bearer, reverse("alerts:list"), {"ids": ids, "status": "open"}
    )

    assert response.status_code in {400, 404}
    assert list(Alert.objects.order_by("pk").values_list("status", flat=True)) == (
        ["open", "open", "open"] if problem == "unknown id" else ["open", "open", "acknowledged"]
    )
    assert not AlertHistory.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": [], "status": "resolved"}, {"ids": ["x"], "status": "resolved"}, {"ids": [1]}],
)
def test_bad_bulk_bodies_are_400(api_client, admin_user, bearer, db, body):
    assert patch(api_client, admin_user, bearer, reverse("alerts:list"), body).status_code == 400


def test_stats(api_client, analyst_user, bearer):
    AlertFactory(status="open", severity="high")
    AlertFactory(status="open", severity="critical")
    AlertFactory(status="resolved", severity="high")

    body = api_client.get(reverse("alerts:stats"), HTTP_AUTHORIZATION=bearer(analyst_user)).json()

    assert body["total"] == 3
    assert body["by_status"] == {"open": 2, "acknowledged": 0, "resolved": 1, "false_positive": 0}
    assert body["by_severity"]["high"] == 2


@pytest.mark.parametrize("method", ["put", "post", "delete"])
def test_history_cannot_be_changed_through_the_api(api_client, admin_user, bearer, method):
    alert = AlertFactory()
    patch(api_client, admin_user, bearer, reverse("alerts:detail", args=[alert.pk]), {"note": "x"})

    response = getattr(api_client, method)(
        reverse("alerts:history", args=[alert.pk]),
        {},
        format="json",
        HTTP_AUTHORIZATION=bearer(admin_user),
    )

    assert response.status_code == 405
    assert AlertHistory.objects.count() == 1  # fmt: skip
