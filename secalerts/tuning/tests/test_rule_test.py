"""POST /api/rules/test/: which events match and the alerts they would raise, as
ingestion would raise them on an empty database; nothing stored."""

import pytest

from secalerts.alerts.models import Alert
from secalerts.tuning.tests.helpers import FAILURE, event, ingest, post, stored_counts

pytestmark = pytest.mark.django_db


def run(api_client, bearer, user, rule, events):
    return post(api_client, bearer, user, "rule-test", {"rule": rule, "events": events})


def test_plain_rule_lists_matches_and_one_alert_per_event_in_time_order(
    api_client, bearer, analyst_user
):
    rule = {"name": "Failures", "severity": "low", "condition": FAILURE}
    events = [
        event(30, source_ip="10.0.0.2"),
        event(0, event_type="auth.success"),
        event(10, source_ip="10.0.0.1"),
    ]

    response = run(api_client, bearer, analyst_user, rule, events)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] == [0, 2]
    assert [(a["title"], a["severity"], a["events"]) for a in body["alerts"]] == [
        ("Failures", "low", [2]),
        ("Failures", "low", [0]),
    ]
    assert body["alerts"][0]["source_ip"] == "10.0.0.1"


def test_threshold_raises_one_alert_for_the_window_and_none_below_it(
    api_client, bearer, admin_user
):
    rule = {
        "name": "Brute force",
        "severity": "high",
        "condition": FAILURE,
        "group_by": ["source_ip"],
        "threshold": {"count": 3, "window_seconds": 60},
    }
    events = [event(i * 10, source_ip="10.0.0.1") for i in range(4)]
    events += [event(5, source_ip="10.0.0.9"), event(6, source_ip="10.0.0.9")]

    body = run(api_client, bearer, admin_user, rule, events).json()

    assert body["matched"] == [0, 1, 2, 3, 4, 5]
    [alert] = body["alerts"]
    assert alert["group"] == {"source_ip": "10.0.0.1"}
    assert (alert["event_count"], alert["events"]) == (4, [0, 1, 2, 3])
    assert alert["title"] == "Brute force: 10.0.0.1"


def test_group_by_dedups_within_the_window_and_splits_past_it(api_client, bearer, admin_user):
    rule = {
        "name": "By source",
        "severity": "medium",
        "condition": FAILURE,
        "group_by": ["source"],
        "dedup_window_seconds": 60,
    }
    events = [event(0), event(30), event(1000), event(1010, source="web")]

    alerts = run(api_client, bearer, admin_user, rule, events).json()["alerts"]

    assert [(a["group"], a["events"]) for a in alerts] == [
        ({"source": "sshd"}, [0, 1]),
        ({"source": "sshd"}, [2]),
        ({"source": "web"}, [3]),
    ]


def test_inherit_takes_the_highest_severity_of_the_alerts_events(api_client, bearer, admin_user):
    rule = {"severity": "inherit", "condition": FAILURE, "group_by": ["source"]}
    events = [event(0, severity="low"), event(1, severity="critical"), event(2, severity="medium")]

    [alert] = run(api_client, bearer, admin_user, rule, events).json()["alerts"]

    assert alert["severity"] == "critical"
    assert alert["title"] == "Rule test: sshd"


def test_stores_nothing(api_client, bearer, admin_user):
    rule = {
        "condition": FAILURE,
        "severity": "high",
        "group_by": ["source_ip"],
        "threshold": {"count": 2, "window_seconds": 60},
    }
    before = stored_counts()

    response = run(api_client, bearer, admin_user, rule, [event(0, source_ip="10.0.0.1")] * 3)

    assert response.status_code == 200
    assert len(response.json()["alerts"]) == 1
    assert stored_counts() == before


def test_gives_the_alerts_ingestion_raises_on_an_empty_database(api_client, bearer, admin_user):
    rule = {
        "name": "Spray",
        "severity": "inherit",
        "condition": FAILURE,
        "group_by": ["source_ip"],
        "threshold": {"count": 3, "window_seconds": 60, "distinct_field": "username"},
        "dedup_window_seconds": 120,
    }
    events = [
        event(i * 15, source_ip=f"10.0.0.{i % 2}", username=f"u{i % 5}", severity=sev)
        for i, sev in enumerate(["low", "medium", "high", "low"] * 5)
    ]
    tested = run(api_client, bearer, admin_user, rule, events).json()["alerts"]
    created = api_client.post(
        "/api/rules/", rule, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )
    assert created.status_code == 201

    ingest(api_client, bearer, admin_user, events)

    stored = Alert.objects.filter(rule_id=created.json()["id"]).order_by("first_seen")
    assert len(tested) >= 2
    assert [
        (a["title"], a["severity"], a["event_count"], a["first_seen"], a["last_seen"])
        for a in tested
    ] == [(a.title, a.severity, a.event_count, _z(a.first_seen), _z(a.last_seen)) for a in stored]


@pytest.mark.parametrize(
    ("events", "errors"),
    [
        ([{"event_type": "auth.failure"}], {"0": {"source": ["This field is required."]}}),
        ([event(0), event(0, source_ip="not an ip")], {"1": {"source_ip": None}}),
        ([event(0, event_type="Bad Type")], {"0": {"event_type": None}}),
    ],
)
def test_invalid_events_are_a_400_naming_the_index_and_field(
    api_client, bearer, admin_user, events, errors
):
    response = run(api_client, bearer, admin_user, {"condition": FAILURE}, events)

    assert response.status_code == 400, response.content
    got = response.json()["errors"]
    assert set(got) == set(errors)
    for index, fields in errors.items():
        assert set(got[index]) == set(fields)
        for name, messages in fields.items():
            assert messages is None or got[index][name] == messages


def test_invalid_rule_is_a_400_naming_the_bad_node(api_client, bearer, admin_user):
    rule = {"condition": {"all": [FAILURE, {"field": "nope", "op": "eq", "value": 1}]}}

    response = run(api_client, bearer, admin_user, rule, [event(0)])

    assert response.status_code == 400
    [message] = response.json()["errors"]["rule"]["condition"]
    assert message.startswith("condition.all[1].field")


SIGMA_WHOAMI = """
title: Whoami Execution
logsource: {product: windows, category: process_creation}
detection:
  selection: {Image|endswith: '\\whoami.exe'}
  condition: selection
level: high
"""


def test_a_sigma_rule_is_tested_as_the_importer_compiles_it(api_client, bearer, admin_user):
    events = [
        {"event_type": "win.sysmon.1", "source": "ws1", "data": {"Image": "C:\\W\\WhoAmI.EXE"}},
        {"event_type": "win.sysmon.1", "source": "ws1", "data": {"Image": "C:\\cmd.exe"}},
        {"event_type": "win.sysmon.3", "source": "ws1", "data": {"Image": "C:\\whoami.exe"}},
    ]

    response = run(api_client, bearer, admin_user, SIGMA_WHOAMI, events)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] == [0]
    assert [(a["title"], a["severity"]) for a in body["alerts"]] == [("Whoami Execution", "high")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("title: x\ndetection: {}", "must have a log source"),
        ("a: [", "invalid YAML"),
        (SIGMA_WHOAMI.replace("windows", "okta"), "unmapped logsource okta/process_creation/-"),
        (SIGMA_WHOAMI + "---\n" + SIGMA_WHOAMI, "2 Sigma rules given"),
    ],
)
def test_sigma_text_the_importer_refuses_is_a_400_saying_why(
    api_client, bearer, admin_user, text, reason
):
    response = run(api_client, bearer, admin_user, text, [event(0)])

    assert response.status_code == 400
    [message] = response.json()["errors"]["rule"]
    assert reason in message


def test_no_role_and_anonymous_may_not_test(api_client, bearer, norole_user):
    body = {"rule": {"condition": FAILURE}, "events": [event(0)]}

    assert post(api_client, bearer, norole_user, "rule-test", body).status_code == 403
    assert api_client.post("/api/rules/test/", body, format="json").status_code == 401


def _z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")
