"""Rules API: Admin writes, Analyst reads; bad rules are a 400 naming the bad node."""

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule

CONDITION = {"all": [{"field": "event_type", "op": "eq", "value": "dns.query"}]}


def create(api_client, user, bearer, **fields):
    body = {"name": "DNS to bad domain", "severity": "high", "condition": CONDITION} | fields
    return api_client.post(
        reverse("rules:list"), body, format="json", HTTP_AUTHORIZATION=bearer(user)
    )


def test_default_rules_are_shipped(api_client, analyst_user, bearer):
    response = api_client.get(reverse("rules:list"), HTTP_AUTHORIZATION=bearer(analyst_user))

    names = {rule["name"] for rule in response.json()}
    assert {"High-severity event", "Brute-force login", "Malware detected"} <= names
    brute = Rule.objects.get(name="Brute-force login")
    assert brute.threshold == {"count": 5, "window_seconds": 60}
    assert brute.group_by == ["source_ip"]


def test_admin_creates_a_rule(api_client, admin_user, bearer):
    response = create(api_client, admin_user, bearer, group_by=["source"], dedup_window_seconds=60)

    assert response.status_code == 201
    body = response.json()
    assert body["condition"] == CONDITION
    assert body["enabled"] is True
    assert body["threshold"] is None
    assert Rule.objects.get(pk=body["id"]).group_by == ["source"]


LIKE = {"field": "event_type", "op": "like", "value": 1}
LOOKBEHIND = {"field": "message", "op": "regex", "value": "(?<!a)b"}


@pytest.mark.parametrize(
    ("fields", "field", "path"),
    [
        ({"condition": {"all": [{"field": "x.y", "op": "eq", "value": 1}]}}, "condition",
         "condition.all[0].field"),
        ({"condition": {"any": [CONDITION, LIKE]}}, "condition", "condition.any[1].op"),
        ({"condition": {"field": "message", "op": "regex", "value": "("}}, "condition",
         "condition.value"),
        ({"condition": {"field": "message", "op": "regex", "value": r"(a)\1"}}, "condition",
         "condition.value"),
        ({"condition": {"field": "message", "op": "regex", "value": "(?=a)"}}, "condition",
         "condition.value"),
        ({"condition": {"any": [CONDITION, LOOKBEHIND]}}, "condition", "condition.any[1].value"),
        ({"condition": {"not": []}}, "condition", "condition.not"),
        ({"condition": "event_type == x"}, "condition", "condition"),
        ({"threshold": {"count": 0, "window_seconds": 60}}, "threshold", "threshold.count"),
        ({"threshold": {"count": 5}}, "threshold", "threshold"),
        ({"group_by": ["nope"]}, "group_by", "group_by[0]"),
    ],
)  # fmt: skip
def test_invalid_rule_is_a_400_naming_the_bad_node(
    api_client, admin_user, bearer, fields, field, path
):
    response = create(api_client, admin_user, bearer, **fields)

    assert response.status_code == 400, response.content
    message = response.json()[field][0]
    assert message.startswith(path), message
    assert not Rule.objects.filter(name="DNS to bad domain").exists()


@pytest.mark.parametrize("severity", ["urgent", None, 3])
def test_bad_severity_is_a_400(api_client, admin_user, bearer, severity):
    assert create(api_client, admin_user, bearer, severity=severity).status_code == 400


def test_patch_revalidates_and_keeps_the_rule_on_error(api_client, admin_user, bearer):
    rule_id = create(api_client, admin_user, bearer).json()["id"]
    url = reverse("rules:detail", args=[rule_id])

    bad = api_client.patch(
        url, {"condition": {"field": "event_type", "op": "gt"}}, format="json",
        HTTP_AUTHORIZATION=bearer(admin_user),
    )  # fmt: skip
    good = api_client.patch(
        url, {"enabled": False}, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert bad.status_code == 400
    assert good.status_code == 200
    rule = Rule.objects.get(pk=rule_id)
    assert rule.condition == CONDITION
    assert rule.enabled is False


def test_rule_changes_take_effect_on_the_next_event(api_client, admin_user, bearer):
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    dns = {"event_type": "dns.query", "source": "resolver-1"}

    def ingest():
        return api_client.post(reverse("events:list"), dns, format="json", **auth).json()["alerts"]

    before = ingest()
    rule_id = create(api_client, admin_user, bearer, group_by=["source"]).json()["id"]
    raised = ingest()
    api_client.patch(
        reverse("rules:detail", args=[rule_id]), {"enabled": False}, format="json", **auth
    )
    disabled = ingest()
    api_client.patch(
        reverse("rules:detail", args=[rule_id]), {"enabled": True}, format="json", **auth
    )
    api_client.delete(reverse("rules:detail", args=[rule_id]), **auth)
    deleted = ingest()

    assert before == []
    assert len(raised) == 1
    assert disabled == []
    assert deleted == []
    assert Alert.objects.get(pk=raised[0]).rule_id is None  # the rule is gone, the alert stays


def test_delete_unknown_rule_is_404(api_client, admin_user, bearer):
    response = api_client.delete(
        reverse("rules:detail", args=[999999]), HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 404
