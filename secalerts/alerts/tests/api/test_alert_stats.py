"""GET /api/alerts/stats/: totals, the series by severity per bucket, top rules and IPs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from secalerts.alerts.tests.factories import AlertFactory, RuleFactory

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def stats(api_client, user, bearer, **params):
    return api_client.get(reverse("alerts:stats"), params, HTTP_AUTHORIZATION=bearer(user))


def at(minutes: float, **fields):
    moment = T0 + timedelta(minutes=minutes)
    return AlertFactory(created_at=moment, first_seen=moment, last_seen=moment, **fields)


def test_hourly_series_counts_by_severity_and_fills_empty_buckets(api_client, analyst_user, bearer):
    at(5, severity="high")
    at(50, severity="high")
    at(61, severity="critical")
    at(-1, severity="low")  # before the range

    response = stats(
        api_client, analyst_user, bearer,
        bucket="hour", since="2026-03-01T10:00:00Z", until="2026-03-01T13:00:00Z",
    )  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    assert [point["start"] for point in body["series"]] == [
        "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z",
    ]  # fmt: skip
    assert [point["counts"]["high"] for point in body["series"]] == [2, 0, 0]
    assert [point["counts"]["critical"] for point in body["series"]] == [0, 1, 0]
    assert body["total"] == 4  # totals count every alert, whatever the range
    assert body["bucket"] == "hour"


def test_daily_buckets_start_at_midnight(api_client, analyst_user, bearer):
    at(0)
    at(24 * 60)

    body = stats(
        api_client, analyst_user, bearer,
        bucket="day", since="2026-03-01T09:30:00Z", until="2026-03-03T00:00:00Z",
    ).json()  # fmt: skip

    assert body["since"] == "2026-03-01T00:00:00Z"
    assert [sum(point["counts"].values()) for point in body["series"]] == [1, 1]


def test_top_rules_and_source_ips_most_first(api_client, analyst_user, bearer):
    noisy, quiet = RuleFactory(name="noisy"), RuleFactory(name="quiet")
    for minute in range(3):
        at(minute, rule=noisy, source_ip="198.51.100.7")
    at(4, rule=quiet, source_ip="203.0.113.9")
    at(5, rule=None, source_ip=None)

    body = stats(
        api_client, analyst_user, bearer, since="2026-03-01T10:00:00Z", until="2026-03-01T11:00:00Z"
    ).json()

    assert body["top_rules"] == [
        {"id": noisy.pk, "name": "noisy", "count": 3},
        {"id": quiet.pk, "name": "quiet", "count": 1},
    ]
    assert body["top_source_ips"] == [
        {"source_ip": "198.51.100.7", "count": 3},
        {"source_ip": "203.0.113.9", "count": 1},
    ]


def test_default_range_is_the_last_day_by_hour(api_client, analyst_user, bearer, db):
    body = stats(api_client, analyst_user, bearer).json()

    assert body["bucket"] == "hour"
    assert len(body["series"]) in {24, 25}  # since is moved back to the start of its hour


@pytest.mark.parametrize(
    "params",
    [
        {"bucket": "week"},
        {"bucket": ""},
        {"since": "yesterday"},
        {"until": ""},
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        {"bucket": "hour", "since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        {"bucket": "day", "since": "2020-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        {"until": "0001-01-01T00:00:00Z"},
    ],
)
def test_bad_parameters_are_400(api_client, analyst_user, bearer, db, params):
    response = stats(api_client, analyst_user, bearer, **params)

    assert response.status_code == 400
    assert "detail" in response.json()


def test_stats_take_a_fixed_number_of_queries(
    api_client, analyst_user, bearer, django_assert_max_num_queries
):
    rules = [RuleFactory() for _ in range(12)]
    for i in range(60):
        at(i * 17, rule=rules[i % 12], source_ip=f"192.0.2.{i % 20}", severity="high")
    header = bearer(analyst_user)  # minted before counting: the user lookup is the request's

    with django_assert_max_num_queries(6):  # user + roles, then totals, series, rules, IPs
        response = api_client.get(
            reverse("alerts:stats"),
            {"bucket": "hour", "since": "2026-03-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"},
            HTTP_AUTHORIZATION=header,
        )

    assert response.status_code == 200
    assert len(response.json()["top_rules"]) == 10
