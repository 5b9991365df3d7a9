"""POST /api/rules/{id}/backtest/: a stored rule over stored events of a range: counts,
the first 100 matches, the alerts it would have raised; nothing stored; bounded."""

from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import override_settings

from secalerts.rules.services import create_rule
from secalerts.tuning import ruletest
from secalerts.tuning.tests.helpers import FAILURE, at, event, ingest, post, stored_counts

pytestmark = pytest.mark.django_db

BRUTE: dict[str, Any] = {
    "name": "Backtest brute force",
    "severity": "high",
    "condition": FAILURE,
    "group_by": ["source_ip"],
    "threshold": {"count": 3, "window_seconds": 60},
}


def backtest(api_client, bearer, user, rule_id, since, until):
    return post(api_client, bearer, user, "backtest", {"since": since, "until": until}, rule_id)


@pytest.fixture
def stored(api_client, bearer, admin_user):
    """Failures from two IPs and other events, stored before the rule exists."""
    events = [event(i * 10, source_ip="10.0.0.1") for i in range(6)]  # 0..50 s
    events += [event(i * 10 + 5, source_ip="10.0.0.2") for i in range(2)]
    events += [event(i, event_type="auth.success", source_ip="10.0.0.1") for i in range(4)]
    events += [event(3600 + i, source_ip="10.0.0.3") for i in range(3)]  # an hour later
    ingest(api_client, bearer, admin_user, events)
    return create_rule(**BRUTE)


def test_counts_matches_and_alerts_of_the_range_only(api_client, bearer, admin_user, stored):
    before = stored_counts()

    response = backtest(api_client, bearer, admin_user, stored.pk, at(0), at(100))

    assert response.status_code == 200, response.content
    body = response.json()
    # The rule names its event type: the auth.success events are not even read.
    assert (body["events_scanned"], body["events_matched"]) == (8, 8)
    assert [m["timestamp"] for m in body["matches"]] == sorted(
        m["timestamp"] for m in body["matches"]
    )
    [alert] = body["alerts"]
    assert (alert["group"], alert["event_count"]) == ({"source_ip": "10.0.0.1"}, 6)
    assert body["alert_count"] == 1
    assert stored_counts() == before


def test_threshold_windows_span_chunks_as_they_span_batches(
    api_client, bearer, admin_user, stored, monkeypatch
):
    monkeypatch.setattr(ruletest, "CHUNK", 2)

    body = backtest(api_client, bearer, admin_user, stored.pk, at(0), at(4000)).json()

    assert body["events_scanned"] == 11
    assert [(a["group"]["source_ip"], a["event_count"]) for a in body["alerts"]] == [
        ("10.0.0.1", 6),
        ("10.0.0.3", 3),
    ]


def test_lists_the_first_100_matches_and_counts_them_all(api_client, bearer, admin_user):
    ingest(api_client, bearer, admin_user, [event(i, source_ip="10.1.0.1") for i in range(150)])
    rule = create_rule(name="Every failure", severity="low", condition=FAILURE)

    body = backtest(api_client, bearer, admin_user, rule.pk, at(0), at(1000)).json()

    assert (body["events_matched"], len(body["matches"])) == (150, 100)
    assert body["matches"][0]["timestamp"] == at(0).replace("+00:00", "Z")
    assert body["alert_count"] == 150
    assert len(body["alerts"]) == 100


@override_settings(BACKTEST_MAX_EVENTS=7)
def test_past_the_events_bound_is_a_400_naming_it(api_client, bearer, admin_user, stored):
    response = backtest(api_client, bearer, admin_user, stored.pk, at(0), at(100))

    assert response.status_code == 400
    assert "BACKTEST_MAX_EVENTS (7)" in response.json()["detail"]


@override_settings(BACKTEST_MAX_SECONDS=0)
def test_past_the_time_bound_is_a_400_naming_it(api_client, bearer, admin_user, stored):
    response = backtest(api_client, bearer, admin_user, stored.pk, at(0), at(100))

    assert response.status_code == 400
    assert "BACKTEST_MAX_SECONDS (0 s)" in response.json()["detail"]


def test_bad_ranges_and_unknown_rules(api_client, bearer, admin_user, stored):
    assert backtest(api_client, bearer, admin_user, stored.pk, at(10), at(0)).status_code == 400
    assert (
        backtest(api_client, bearer, admin_user, stored.pk, "yesterday", at(0)).status_code == 400
    )
    assert backtest(api_client, bearer, admin_user, 99999, at(0), at(10)).status_code == 404


def test_analyst_may_not_backtest(api_client, bearer, analyst_user, stored):
    assert backtest(api_client, bearer, analyst_user, stored.pk, at(0), at(10)).status_code == 403


def test_reads_only_the_columns_the_rule_needs_and_lists_whole_events(
    api_client, bearer, admin_user
):
    events = [
        event(i, username=f"u{i}", data={"family": "Emotet" if i % 2 else "x"}) for i in range(6)
    ]
    ingest(api_client, bearer, admin_user, events)
    on_user = create_rule(
        name="On user", severity="low",
        condition={"all": [FAILURE, {"field": "username", "op": "in", "value": ["u1", "u2"]}]},
    )  # fmt: skip
    on_data = create_rule(
        name="On data", severity="low",
        condition={"field": "data.family", "op": "eq", "value": "Emotet"},
    )  # fmt: skip

    by_user = backtest(api_client, bearer, admin_user, on_user.pk, at(0), at(10)).json()
    by_data = backtest(api_client, bearer, admin_user, on_data.pk, at(0), at(10)).json()

    read = ruletest._columns_read(
        ruletest.active_rule(model_to_dict(on_user), rule_id=on_user.pk), on_user.condition
    )
    assert read == ("id", "timestamp", "event_type", "severity", "source_ip", "username")
    assert [m["username"] for m in by_user["matches"]] == ["u1", "u2"]
    assert by_user["matches"][0]["data"] == {"family": "Emotet"}  # whole events listed
    assert [m["username"] for m in by_data["matches"]] == ["u1", "u3", "u5"]


def test_a_condition_it_does_not_know_reads_every_column():
    rule = ruletest.active_rule({"condition": FAILURE}, rule_id=1)

    odd = {"all": [FAILURE, {"field": "message", "op": "contains", "value": "x", "new": 1}]}

    assert ruletest._columns_read(rule, odd) == ruletest._COLUMNS
    assert "data" not in ruletest._columns_read(rule, FAILURE)
