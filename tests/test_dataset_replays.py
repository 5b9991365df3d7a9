"""Real logs replayed through the HTTP API must raise exactly the alerts of their ground truth.

The datasets (../shared/datasets, beside the checkout) carry expected_*.json files
computed independently of this project; each names its rule and what it must find.
"""

import json
import random
from pathlib import Path

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.events.models import Event


def load(dataset_dir: Path, name: str) -> list[dict]:
    lines = (dataset_dir / name / "events.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def condition_from_ground_truth(rule: dict) -> dict:
    """The expected_*.json selection, in our condition language."""
    leaves = []
    for key in ("select_equals", "match_equals"):
        for field, values in rule.get(key, {}).items():
            leaves.append({"field": field, "op": "in", "value": values})
    for key, ignore_case in (
        ("select_regex", False),
        ("match_regex_case_insensitive", True),
    ):
        for field, patterns in rule.get(key, {}).items():
            leaves += [
                {"field": field, "op": "regex", "value": p, "ignore_case": ignore_case}
                for p in patterns
            ]
    for field, patterns in rule.get("exclude_regex_case_insensitive", {}).items():
        leaves += [
            {"not": {"field": field, "op": "regex", "value": p, "ignore_case": True}}
            for p in patterns
        ]
    return {"all": leaves}


def create_rule_from(api_client, auth: dict, expected: dict, *, source: str | None = None) -> int:
    """The ground truth's rule, created through the API (for events of `source` only, if
    given); returns its id."""
    rule = expected["rule"]
    condition = condition_from_ground_truth(rule)
    if source is not None:
        condition["all"].append({"field": "source", "op": "eq", "value": source})
    body = {
        "name": f"{rule['name']} ({source})" if source else rule["name"],
        "severity": "high",
        "condition": condition,
        "group_by": rule.get("group_by", []),
    }
    if "threshold" in rule:
        body["threshold"] = {"count": rule["threshold"], "window_seconds": rule["window_seconds"]}
        if rule["count"].startswith("distinct "):
            body["threshold"]["distinct_field"] = rule["count"].removeprefix("distinct ")
    response = api_client.post(reverse("rules:list"), body, format="json", **auth)
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def api(api_client, admin_user, bearer):
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}

    class Api:
        def rule_from(self, expected: dict) -> int:
            return create_rule_from(api_client, auth, expected)

        def send_ndjson(self, events: list[dict]) -> dict:
            body = "\n".join(json.dumps(event) for event in events)
            response = api_client.post(
                reverse("events:list"), body, content_type="application/x-ndjson", **auth
            )
            assert response.status_code == 201, response.content
            return response.json()

        def send_batches(self, events: list[dict], batches: int) -> None:
            size = -(-len(events) // batches)
            for start in range(0, len(events), size):
                response = api_client.post(
                    reverse("events:list"), events[start : start + size], format="json", **auth
                )
                assert response.status_code == 201, response.content

    return Api()


def alerted_keys(rule_id: int, field: str) -> set[str]:
    return {alert.group[field] for alert in Alert.objects.filter(rule_id=rule_id)}


def alert_shape(rule_id: int) -> list[tuple]:
    """What must not depend on arrival order: group, event count, linked events, time span."""
    return sorted(
        (
            json.dumps(alert.group),
            alert.event_count,
            tuple(sorted(str(e) for e in alert.events.values_list("id", flat=True))),
            alert.first_seen,
            alert.last_seen,
        )
        for alert in Alert.objects.filter(rule_id=rule_id)
    )


OPENSSH_RULES = [
    "expected_ssh_failed_password_5_in_60s.json",
    "expected_ssh_invalid_user_8_in_120s.json",
    "expected_ssh_user_enumeration_3_distinct_users_in_300s.json",
]


@pytest.mark.parametrize("expected_file", OPENSSH_RULES)
def test_loghub_openssh_thresholds_match_ground_truth(api, dataset_dir, expected_file):
    expected = json.loads((dataset_dir / "loghub_openssh" / expected_file).read_text())
    rule_id = api.rule_from(expected)

    result = api.send_ndjson(load(dataset_dir, "loghub_openssh"))

    assert result["accepted"] == expected["events_total"]
    assert alerted_keys(rule_id, "source_ip") == set(expected["triggered_keys"])
    # Each alert links every event that took part in a qualifying window, and no other.
    for alert in Alert.objects.filter(rule_id=rule_id):
        assert alert.event_count == alert.events.count()
        assert alert.event_count >= expected["rule"]["threshold"]


@pytest.mark.parametrize("expected_file", OPENSSH_RULES)
def test_threshold_alerts_do_not_depend_on_order_or_batching(api, dataset_dir, expected_file):
    expected = json.loads((dataset_dir / "loghub_openssh" / expected_file).read_text())
    events = load(dataset_dir, "loghub_openssh")
    for number, event in enumerate(events):
        event["id"] = f"00000000-0000-4000-8000-{number:012d}"
    rule_id = api.rule_from(expected)
    api.send_ndjson(events)
    in_order = alert_shape(rule_id)
    Alert.objects.all().delete()
    Event.objects.all().delete()
    from secalerts.rules.models import ThresholdHitPack

    ThresholdHitPack.objects.all().delete()
    random.Random(7).shuffle(events)

    api.send_batches(events, batches=7)

    assert alerted_keys(rule_id, "source_ip") == set(expected["triggered_keys"])
    assert alert_shape(rule_id) == in_order


def test_purplesharp_password_spray(api, dataset_dir):
    folder = "security_datasets_purplesharp_ad_playbook"
    expected = json.loads(
        (
            dataset_dir / folder / "expected_password_spray_4625_5_distinct_users_in_60s.json"
        ).read_text()
    )
    rule_id = api.rule_from(expected)

    api.send_ndjson(load(dataset_dir, folder))

    alert = Alert.objects.get(rule_id=rule_id)
    assert alert.group == {"source": "WORKSTATION5.theshire.local"}
    assert alert.event_count == expected["triggered_groups"][0]["selected_events"]
    usernames = set(alert.events.values_list("username", flat=True))
    assert usernames == set(expected["triggered_groups"][0]["distinct_username"])


@pytest.mark.parametrize(
    "expected_file",
    [
        "expected_lsass_process_access.json",
        "expected_dump_file_created.json",
        "expected_sigma_file_event_win_hktl_dumpert.json",
    ],
)
def test_lsass_dumpert_single_event_rules(api, dataset_dir, expected_file):
    folder = "security_datasets_lsass_dumpert"
    expected = json.loads((dataset_dir / folder / expected_file).read_text())
    rule_id = api.rule_from(expected)
    events = load(dataset_dir, folder)
    for number, event in enumerate(events):
        event["id"] = f"00000000-0000-4000-8000-{number:012d}"

    api.send_ndjson(events)

    linked = {
        str(e) for e in Event.objects.filter(alerts__rule_id=rule_id).values_list("id", flat=True)
    }
    wanted = {events[m["event_index"]]["id"] for m in expected["matching_events"]}
    assert linked == wanted
    assert Alert.objects.filter(rule_id=rule_id).count() == len(wanted)
