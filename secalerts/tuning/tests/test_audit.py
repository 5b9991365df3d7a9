"""The audit trail: every change of a rule, suppression or API key, with who made it and
the before/after; Admin reads it; nothing changes it (no API route, read-only admin)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from secalerts.audit.models import AuditEntry
from secalerts.rules.models import Rule
from secalerts.tuning.tests.helpers import FAILURE, post

pytestmark = pytest.mark.django_db


def audit(api_client, bearer, user, **query):
    response = api_client.get(reverse("tuning:audit"), query, HTTP_AUTHORIZATION=bearer(user))
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_rule_changes_are_recorded_with_actor_and_before_after(api_client, bearer, admin_user):
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    body = {"name": "Audited", "severity": "low", "condition": FAILURE}
    rule_id = api_client.post("/api/rules/", body, format="json", **auth).json()["id"]
    url = reverse("rules:detail", args=[rule_id])
    api_client.patch(url, {"severity": "high"}, format="json", **auth)
    api_client.patch(url, {"enabled": False}, format="json", **auth)
    api_client.delete(url, **auth)

    entries = audit(api_client, bearer, admin_user, target_type="rule", target_id=rule_id)

    assert [e["action"] for e in entries] == ["deleted", "disabled", "updated", "created"]
    assert {(e["actor"], e["actor_kind"]) for e in entries} == {("alice-admin", "user")}
    deleted, disabled, updated, created = entries
    assert created["before"] is None
    assert created["after"]["severity"] == "low"
    assert (updated["before"]["severity"], updated["after"]["severity"]) == ("low", "high")
    assert (disabled["before"]["enabled"], disabled["after"]["enabled"]) == (True, False)
    assert deleted["before"]["name"] == "Audited"
    assert deleted["after"] is None


def test_suppression_changes_are_recorded(api_client, bearer, admin_user):
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"condition": FAILURE, "reason": "lab", "expires_at": expires}
    row = post(api_client, bearer, admin_user, "suppressions", body).json()
    url = reverse("tuning:suppression", args=[row["id"]])
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    api_client.patch(url, {"reason": "lab, until Friday"}, format="json", **auth)
    api_client.delete(url, **auth)

    entries = audit(api_client, bearer, admin_user, target_type="suppression")

    assert [e["action"] for e in entries] == ["deleted", "updated", "created"]
    assert entries[1]["before"]["reason"] == "lab"
    assert entries[1]["after"]["reason"] == "lab, until Friday"
    assert entries[2]["after"]["condition"] == FAILURE


def test_api_key_creation_and_revocation_are_recorded(api_client, bearer, admin_user):
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    key = api_client.post(
        "/api/keys/", {"name": "fw-1", "scopes": ["ingest"]}, format="json", **auth
    )
    key_id = key.json()["id"]
    api_client.delete(f"/api/keys/{key_id}/", **auth)

    entries = audit(api_client, bearer, admin_user, target_type="apikey", target_id=key_id)

    assert [e["action"] for e in entries] == ["revoked", "created"]
    assert entries[0]["before"]["revoked_at"] is None
    assert entries[0]["after"]["revoked_at"] is not None
    assert "secret_hash" not in entries[1]["after"]
    assert entries[1]["actor"] == "alice-admin"


def test_filters_by_actor_and_time_and_pages(api_client, bearer, admin_user, make_user):
    from secalerts.accounts.roles import Role

    other = make_user("dave-admin", Role.ADMIN)
    for i, user in enumerate([admin_user, other, admin_user]):
        body = {"name": f"rule {i}", "severity": "low", "condition": FAILURE}
        api_client.post("/api/rules/", body, format="json", HTTP_AUTHORIZATION=bearer(user))

    mine = audit(api_client, bearer, admin_user, actor="alice-admin", target_type="rule")
    future = audit(
        api_client, bearer, admin_user, since=(timezone.now() + timedelta(hours=1)).isoformat()
    )
    first = api_client.get(
        reverse("tuning:audit"), {"page_size": 2, "target_type": "rule"},
        HTTP_AUTHORIZATION=bearer(admin_user),
    ).json()  # fmt: skip
    rest = api_client.get(first["next"], HTTP_AUTHORIZATION=bearer(admin_user)).json()

    assert [e["after"]["name"] for e in mine] == ["rule 2", "rule 0"]
    assert future == []
    for bad in ({"until": ""}, {"since": "yesterday"}):
        response = api_client.get(
            reverse("tuning:audit"), bad, HTTP_AUTHORIZATION=bearer(admin_user)
        )
        assert response.status_code == 400
    assert [e["after"]["name"] for e in first["results"] + rest["results"]] == [
        "rule 2", "rule 1", "rule 0"
    ]  # fmt: skip


def test_only_admin_reads_and_nothing_writes(api_client, bearer, admin_user, analyst_user):
    body = {"name": "x", "severity": "low", "condition": FAILURE}
    api_client.post("/api/rules/", body, format="json", HTTP_AUTHORIZATION=bearer(admin_user))
    url = reverse("tuning:audit")
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}

    assert api_client.get(url, HTTP_AUTHORIZATION=bearer(analyst_user)).status_code == 403
    assert api_client.post(url, {}, format="json", **auth).status_code == 405
    assert api_client.patch(url, {}, format="json", **auth).status_code == 405
    assert api_client.delete(url, **auth).status_code == 405
    assert api_client.delete(f"{url}1/", **auth).status_code == 404
    assert AuditEntry.objects.count() == 1


def test_django_admin_changes_are_recorded_and_the_trail_is_read_only(client):
    superuser = get_user_model().objects.create_superuser("root", password="pw-long-enough-1")
    client.force_login(superuser)
    add = client.post(
        "/admin/rules/rule/add/",
        {"name": "From admin", "description": "", "enabled": "on", "severity": "low",
         "condition": '{"field": "event_type", "op": "eq", "value": "x"}', "group_by": "[]",
         "threshold": "null", "dedup_window_seconds": "3600"},
    )  # fmt: skip
    assert add.status_code == 302, add.content
    rule = Rule.objects.get(name="From admin")
    entry = AuditEntry.objects.get(target_type="rule", target_id=str(rule.pk))
    change_page = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    change = client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "deleted"})
    delete = client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"})

    assert (entry.actor, entry.action) == ("root", "created")
    assert change_page.status_code == 200
    assert b"Save" not in change_page.content
    assert change.status_code == 403
    assert delete.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "created"
