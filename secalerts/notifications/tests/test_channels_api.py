"""Channel CRUD, validation (400s), SSRF refusals at save, Admin only."""

import pytest
from django.urls import reverse

from secalerts.alerts.tests.factories import RuleFactory
from secalerts.notifications.models import Channel

pytestmark = pytest.mark.django_db

WEBHOOK = {"name": "soar", "kind": "webhook", "url": "https://hooks.example.com/in"}


@pytest.fixture
def admin(api_client, admin_user, bearer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
    return api_client


def test_admin_creates_reads_changes_and_deletes_a_channel(admin):
    rule = RuleFactory()
    created = admin.post(
        reverse("notifications:channels"),
        {**WEBHOOK, "secret": "s3cret", "severity_min": "high", "rules": [rule.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["has_secret"] is True
    assert "secret" not in body
    assert body["on"] == ["alert.created"]
    assert body["rules"] == [rule.pk]
    assert body["severity_min"] == "high"

    url = reverse("notifications:channel", args=[body["id"]])
    changed = admin.patch(url, {"on": ["alert.created", "alert.updated"]}, format="json")
    assert changed.status_code == 200
    assert changed.json()["on"] == ["alert.created", "alert.updated"]
    assert admin.get(reverse("notifications:channels")).json()[0]["name"] == "soar"

    assert admin.delete(url).status_code == 204
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "pager", "url": "https://a.example/"}, "kind"),
        ({"name": "x", "kind": "webhook"}, "url"),
        ({"name": "x", "kind": "webhook", "url": "not a url"}, "url"),
        ({"name": "x", "kind": "webhook", "url": "ftp://a.example/"}, "url"),
        ({"name": "x", "kind": "email"}, "to"),
        ({"name": "x", "kind": "email", "to": ["not-an-address"]}, "to"),
        ({**WEBHOOK, "severity_min": "urgent"}, "severity_min"),
        ({**WEBHOOK, "on": ["alert.deleted"]}, "on"),
        ({**WEBHOOK, "on": []}, "on"),
        ({**WEBHOOK, "rules": [999999]}, "rules"),
        ({**WEBHOOK, "rules": "all"}, "rules"),
        ({**WEBHOOK, "rules": [2**63]}, "rules"),  # found by schemathesis: was a 500
    ],
)
def test_bad_channel_input_is_a_400_and_stores_nothing(admin, body, field):
    response = admin.post(reverse("notifications:channels"), body, format="json")

    assert response.status_code == 400
    assert field in str(response.json())
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.10.1:8080/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.GOOGLE.INTERNAL./",
        "http://100.100.100.200/",
        "http://0.0.0.0:80/",
    ],
)
def test_link_local_and_metadata_destinations_are_refused_at_save(admin, url):
    response = admin.post(reverse("notifications:channels"), {**WEBHOOK, "url": url}, format="json")

    assert response.status_code == 400, response.json()
    assert "url" in str(response.json())
    assert not Channel.objects.exists()


def test_a_change_to_a_refused_url_is_a_400_and_keeps_the_channel(admin):
    channel_id = admin.post(reverse("notifications:channels"), WEBHOOK, format="json").json()["id"]
    url = reverse("notifications:channel", args=[channel_id])

    response = admin.patch(url, {"url": "http://169.254.169.254/"}, format="json")

    assert response.status_code == 400
    assert Channel.objects.get().url == WEBHOOK["url"]


def test_private_receivers_are_allowed_by_default_and_refused_when_turned_off(admin, settings):
    local = {**WEBHOOK, "url": "http://localhost:9/hook"}
    assert admin.post(reverse("notifications:channels"), local, format="json").status_code == 201

    settings.NOTIFY_ALLOW_PRIVATE = False
    again = {**local, "name": "second"}
    response = admin.post(reverse("notifications:channels"), again, format="json")
    assert response.status_code == 400
    assert "NOTIFY_ALLOW_PRIVATE" in str(response.json())


def test_analysts_may_not_see_or_change_channels(api_client, analyst_user, bearer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(analyst_user))

    assert api_client.get(reverse("notifications:channels")).status_code == 403
    assert (
        api_client.post(reverse("notifications:channels"), WEBHOOK, format="json").status_code
        == 403
    )
    assert api_client.get(reverse("notifications:deliveries")).status_code == 403
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "page_size=null",
        "page_size=0",
        "cursor=not-a-cursor",
        f"alert={2**63}",
        "channel=\u0662",  # a digit to str.isdigit, not an id
        "status=lost",
    ],
)
def test_bad_delivery_log_queries_are_a_400(admin, query):
    response = admin.get(f"{reverse('notifications:deliveries')}?{query}")

    assert response.status_code == 400, response.content
