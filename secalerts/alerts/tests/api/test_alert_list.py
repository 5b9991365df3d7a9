"""GET /api/alerts/: filters, orderings, keyset cursor pages, fixed query count."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.alerts.tests.factories import AlertFactory, RuleFactory

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def get(api_client, analyst_user, bearer):
    header = bearer(analyst_user)

    def fetch(url=None, **params):
        return api_client.get(url or reverse("alerts:list"), params, HTTP_AUTHORIZATION=header)

    return fetch


def walk(get, **params):
    ids, url, pages = [], None, 0
    body = get(**params).json()
    while True:
        ids += [a["id"] for a in body["results"]]
        pages += 1
        if not body["next"]:
            return ids, pages
        url = body["next"]
        body = get(url).json()


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (None, lambda a: (-a.created_at.timestamp(), -a.pk)),
        ("created_at", lambda a: (a.created_at.timestamp(), a.pk)),
        ("-last_seen", lambda a: (-a.last_seen.timestamp(), -a.pk)),
        ("severity", lambda a: (a.severity_rank, a.pk)),
        ("-severity", lambda a: (-a.severity_rank, -a.pk)),
    ],
)
def test_every_ordering_pages_through_all_alerts_once(get, db, ordering, key):
    levels = ["info", "low", "medium", "high", "critical"]
    for i in range(53):  # many ties: few distinct times and severities
        stamp = T0 + timedelta(minutes=i % 4)
        AlertFactory(
            severity=levels[i % 5], created_at=stamp, last_seen=stamp - timedelta(seconds=i % 3)
        )
    params = {"page_size": 7} | ({"ordering": ordering} if ordering else {})

    ids, pages = walk(get, **params)

    expected = [a.pk for a in sorted(Alert.objects.all(), key=key)]
    assert ids == expected
    assert pages == 8


def test_previous_link_returns_the_page_before(get, db):
    for i in range(12):
        AlertFactory(created_at=T0 + timedelta(seconds=i))
    first = get(page_size=5).json()
    second = get(first["next"]).json()

    back = get(second["previous"]).json()

    assert [a["id"] for a in back["results"]] == [a["id"] for a in first["results"]]


@pytest.fixture
def varied(db, admin_user):
    rule = RuleFactory(name="Port scan")
    AlertFactory(
        status="open",
        severity="high",
        rule=rule,
        source_ip="198.51.100.1",
        title="Port scan: 198.51.100.1",
        created_at=T0,
    )
    AlertFactory(
        status="acknowledged",
        severity="critical",
        assigned_to=admin_user,
        created_at=T0 + timedelta(hours=1),
    )
    AlertFactory(
        status="resolved",
        severity="low",
        source_ip="2001:db8::5",
        created_at=T0 + timedelta(hours=2),
    )
    return rule  # fmt: skip


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"status": "open"}, 1),
        ({"status": ["open", "resolved"]}, 2),
        ({"severity": ["high", "critical"]}, 2),
        ({"assigned_to": "alice-admin"}, 1),
        ({"source_ip": "2001:db8::5"}, 1),
        ({"search": "port SCAN"}, 1),
        ({"created_after": "2026-06-01T00:30:00Z"}, 2),
        ({"created_before": "2026-06-01T01:00:00Z"}, 2),
        (
            {
                "status": "acknowledged",
                "severity": "critical",
                "created_after": "2026-06-01T00:00:00Z",
            },
            1,
        ),
    ],
)
def test_filters(get, varied, params, count):
    response = get(**params)

    assert response.status_code == 200
    assert len(response.json()["results"]) == count


def test_rule_filter(get, varied):
    assert len(get(rule=varied.pk).json()["results"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "closed"},
        {"severity": "urgent"},
        {"rule": "abc"},
        {"source_ip": "999.0.0.1"},
        {"created_after": "tomorrow"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ2IjogMSwgImkiOiAieCJ9"},
    ],
)
def test_bad_filters_are_4xx_json(get, db, params):
    response = get(**params)

    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"


def test_list_shape(get, varied):
    alert = get(status="open").json()["results"][0]

    assert set(alert) == {
        "id", "title", "description", "severity", "status", "rule", "group", "source_ip",
        "event_count", "first_seen", "last_seen", "assigned_to", "created_at", "updated_at",
    }  # fmt: skip
    assert alert["rule"] == {"id": varied.pk, "name": "Port scan"}


def test_query_count_is_fixed_whatever_the_page_size(
    get, db, admin_user, django_assert_max_num_queries
):
    for i in range(120):
        AlertFactory(
            assigned_to=admin_user if i % 2 else None, created_at=T0 + timedelta(seconds=i)
        )

    with django_assert_max_num_queries(4):
        response = get(page_size=500)

    assert len(response.json()["results"]) == 120


def cursor_of(position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


@pytest.mark.parametrize("ordering", [None, "last_seen", "-severity"])
@pytest.mark.parametrize(
    "position",
    [
        {"v": "0001-01-01T00:00:00+14:00", "i": 1},
        {"v": "9999-12-31T23:59:59-14:00", "i": 1},
        {"v": "2026-06-01T00:00:00+00:00", "i": 2**63},
        {"v": "2026-06-01T00:00:00+00:00", "i": True},
        {"v": 2**70, "i": 1},
        {"v": None, "i": 1},
        [1, 2],
    ],
)
def test_a_cursor_out_of_range_or_undecodable_is_a_400(get, db, ordering, position):
    AlertFactory(created_at=T0)
    params = {"cursor": cursor_of(position)} | ({"ordering": ordering} if ordering else {})

    response = get(**params)

    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid cursor."


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "501"},
        {"page_size": "0"},
        {"page_size": "-1"},
        {"page_size": "ten"},
        {"page_size": ""},
        {"page_size": "9" * 5000},
        {"ordering": ""},
        {"ordering": "title"},
        {"ordering": "--created_at"},
        {"ordering": "created_at,severity"},
        {"created_after": ""},
        {"created_before": ""},
        {"rule": ""},
    ],
)
def test_values_the_schema_does_not_allow_are_a_400(get, db, params):
    response = get(**params)

    assert response.status_code == 400
    body = response.json()
    assert set(body.get("errors", body)) <= set(params)  # filter errors are keyed at the top


def test_the_largest_page_size_is_allowed(get, db):
    assert get(page_size="500").status_code == 200
