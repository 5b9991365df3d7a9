"""The Django admin works for the Admin group (permissions from a migration), not only for
superusers; what it must not do there stays refused."""

import pytest
from django.urls import reverse

from secalerts.alerts.tests.factories import AlertFactory, RuleFactory


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_group_sees_the_models_on_the_admin_index(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    for name in ("Rules", "Alerts", "Events", "API keys", "Users"):
        assert name in page


@pytest.mark.parametrize(
    "name",
    [
        "admin:rules_rule_changelist",
        "admin:alerts_alert_changelist",
        "admin:alerts_alerthistory_changelist",
        "admin:events_event_changelist",
        "admin:accounts_apikey_changelist",
        "admin:auth_user_changelist",
        "admin:rules_rule_add",
    ],
)
def test_admin_group_opens_each_page(admin_client, name):
    AlertFactory()

    assert admin_client.get(reverse(name)).status_code == 200


def test_admin_group_edits_rules(admin_client):
    rule = RuleFactory(name="old name")

    page = admin_client.get(reverse("admin:rules_rule_change", args=[rule.pk]))

    assert page.status_code == 200
    assert b'name="name"' in page.content  # an editable field, not a read-only view


def test_admin_group_cannot_change_users(admin_client, analyst_user):
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[analyst_user.pk]),
        {"username": analyst_user.username, "is_superuser": "on"},
    )

    assert response.status_code == 403
    analyst_user.refresh_from_db()
    assert not analyst_user.is_superuser


def test_analyst_cannot_use_the_admin(client, analyst_user):
    client.force_login(analyst_user)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302  # not staff: sent to the admin's login
