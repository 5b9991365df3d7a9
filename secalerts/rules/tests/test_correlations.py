"""Correlation rules as clients use them: saved through /api/rules/ (a 400 naming the bad
node), evaluated on events sent through /api/events/ across requests, and identical with
two workers at once."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule, ThresholdHitPack
from secalerts.rules.services import create_rule
from tests.concurrent_ingest import run_at_once, validated

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def event(second: int, event_type: str, user: str = "alice", **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "timestamp": (T0 + timedelta(seconds=second)).isoformat(),
        "event_type": event_type,
        "source": "dc-1",
        "username": user,
    } | fields


def failures(*seconds: int, user: str = "alice") -> list[dict]:
    return [event(s, "win.security.4625", user) for s in seconds]


def plain(name: str, event_type: str, **fields) -> Rule:
    return create_rule(
        name=name,
        severity="low",
        condition={"field": "event_type", "op": "eq", "value": event_type},
        **fields,
    )


def failed_then_success() -> tuple[Rule, Rule]:
    """The spec's "failed logins followed by a successful login", as our rules."""
    failed = plain("Single failed login", "win.security.4625", generate=False)
    success = plain("Successful login", "win.security.4624", generate=False)
    many = create_rule(
        name="Multiple failed logons",
        severity="medium",
        condition=None,
        group_by=["username"],
        generate=False,
        correlation={
            "type": "event_count",
            "rules": [failed.pk],
            "timespan_seconds": 600,
            "condition": {"gte": 10},
        },
    )
    followed = create_rule(
        name="Failed logins followed by a success",
        severity="high",
        condition=None,
        group_by=["username"],
        correlation={"type": "temporal_ordered", "rules": [many.pk, success.pk],
                     "timespan_seconds": 600},
    )  # fmt: skip
    return many, followed


@pytest.fixture
def send(api_client, analyst_user, bearer):
    header = bearer(analyst_user)

    def post(events):
        response = api_client.post(
            reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=header
        )
        assert response.status_code == 201, response.json()
        return response.json()["alerts"]

    return post


def test_event_count_fires_at_the_count_and_later_events_join_its_alert(send):
    failed = plain("Failed login", "win.security.4625")
    rule = create_rule(
        name="Many failed logins",
        severity="high",
        condition=None,
        group_by=["username"],
        correlation={"type": "event_count", "rules": [failed.pk], "timespan_seconds": 60,
                     "condition": {"gte": 3}},
    )  # fmt: skip

    assert send(failures(0, 61)) != []  # the plain rule alerts on its own (generate)
    send(failures(30))  # 0, 30: two
    send(failures(60))  # 0, 30, 60: exactly the timespan
    send(failures(90))  # 30, 60, 90 and 61: the same alert

    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.group == {"username": "alice"}
    assert alert.title == "Many failed logins: alice"
    assert alert.event_count == 5
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + timedelta(seconds=90))
    assert ThresholdHitPack.objects.filter(rule=rule).count() == 4  # one pack a request


def test_chain_of_the_spec_raises_one_alert_and_the_parts_none(send):
    _many, followed = failed_then_success()

    send(failures(*range(0, 50, 10)))
    send([event(95, "win.security.4624")])  # success before the tenth failure, sent first
    assert not Alert.objects.exists()
    send(failures(*range(50, 100, 10)))  # the tenth failure at 90 s: then the success at 95

    (alert,) = Alert.objects.all()
    assert alert.rule_id == followed.pk
    assert alert.severity == "high"
    # The occurrences it ordered: the tenth failure (where the count was reached) and
    # the success after it.
    linked = sorted(e.timestamp for e in alert.events.all())
    assert linked == [T0 + timedelta(seconds=90), T0 + timedelta(seconds=95)]


def test_late_failure_completes_the_chain_on_events_stored_earlier(send):
    _many, followed = failed_then_success()
    send([*failures(*range(10, 100, 10)), event(95, "win.security.4624")])  # nine failures

    send(failures(0))  # the tenth, late: the count is now reached at 90 s, before the success

    (alert,) = Alert.objects.filter(rule=followed)
    linked = sorted(e.timestamp for e in alert.events.all())
    assert linked == [T0 + timedelta(seconds=90), T0 + timedelta(seconds=95)]
    assert alert.source_ip is None  # taken from a batch event, and it holds none


def test_chain_does_not_fire_when_the_success_came_first(send):
    failed_then_success()

    send([event(85, "win.security.4624"), *failures(*range(0, 100, 10))])

    assert not Alert.objects.exists()


def test_value_count_and_temporal_through_ingest(send):
    failed = plain("Failed login", "win.security.4625", generate=False)
    created = plain("Process created", "win.sysmon.1", generate=False)
    spray = create_rule(
        name="Spray", severity="high", condition=None, group_by=["source"],
        correlation={"type": "value_count", "rules": [failed.pk], "timespan_seconds": 60,
                     "condition": {"gte": 3}, "field": "username"},
    )  # fmt: skip
    then = create_rule(
        name="Then a process", severity="high", condition=None, group_by=["source"],
        correlation={"type": "temporal", "rules": [failed.pk, created.pk],
                     "timespan_seconds": 30},
    )  # fmt: skip

    send([*failures(0, 10, user="a"), *failures(20, user="b")])
    send([event(100, "win.sysmon.1")])
    assert not Alert.objects.exists()
    send([*failures(60, user="c"), event(61, "win.sysmon.1")])

    assert {alert.rule_id for alert in Alert.objects.all()} == {spray.pk, then.pk}


@pytest.fixture
def admin_post(api_client, admin_user, bearer):
    header = bearer(admin_user)

    def post(body, rule_id=None):
        if rule_id is None:
            return api_client.post(
                reverse("rules:list"), body, format="json", HTTP_AUTHORIZATION=header
            )
        return api_client.patch(
            reverse("rules:detail", args=[rule_id]), body, format="json",
            HTTP_AUTHORIZATION=header,
        )  # fmt: skip

    return post


def correlation_body(**correlation) -> dict:
    return {
        "name": "Correlated",
        "severity": "high",
        "group_by": ["username"],
        "correlation": {"type": "event_count", "timespan_seconds": 60, "condition": {"gte": 3}}
        | correlation,
    }


def test_correlation_rule_round_trips_through_the_api(admin_post):
    failed = plain("Failed login", "win.security.4625")

    response = admin_post(correlation_body(rules=[failed.pk]))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["condition"] is None
    assert body["generate"] is True
    assert body["correlation"]["rules"] == [failed.pk]


@pytest.mark.parametrize(
    ("change", "field", "path"),
    [
        ({"correlation": {"rules": [999_999]}}, "correlation", "correlation.rules[0]"),
        ({"correlation": {"rules": ["THRESHOLD"]}}, "correlation", "correlation.rules[0]"),
        ({"correlation": {"condition": {"lt": 3}}}, "correlation", "correlation.condition.lt"),
        ({"condition": {"field": "event_type", "op": "eq", "value": "x"}}, "condition",
         "condition"),
        ({"threshold": {"count": 3, "window_seconds": 60}}, "threshold", "threshold"),
        ({"group_by": []}, "group_by", "group_by"),
        ({"group_by": ["nope"]}, "group_by", "group_by[0]"),
    ],
)  # fmt: skip
def test_invalid_correlation_is_a_400_naming_the_bad_node(admin_post, change, field, path):
    failed = plain("Failed login", "win.security.4625")
    threshold = plain("Burst", "x.y", group_by=["source"],
                      threshold={"count": 2, "window_seconds": 5})  # fmt: skip
    body = correlation_body(rules=[failed.pk])
    for key, value in change.items():
        body[key] = body[key] | value if key == "correlation" else value
    if body["correlation"]["rules"] == ["THRESHOLD"]:
        body["correlation"]["rules"] = [threshold.pk]

    response = admin_post(body)

    assert response.status_code == 400, response.content
    message = response.json()[field][0]
    assert message.startswith(path), message
    assert not Rule.objects.filter(name="Correlated").exists()


def test_a_cycle_of_correlations_is_refused(admin_post):
    failed = plain("Failed login", "win.security.4625")
    first = admin_post(correlation_body(rules=[failed.pk])).json()["id"]
    second = admin_post(correlation_body(rules=[first]) | {"name": "Second"}).json()["id"]

    response = admin_post(
        {"correlation": correlation_body(rules=[second])["correlation"]}, rule_id=first
    )

    assert response.status_code == 400
    assert response.json()["correlation"][0].startswith("correlation.rules[0]")
    assert (
        Rule.objects.get(pk=first).correlation == correlation_body(rules=[failed.pk])["correlation"]
    )


def test_a_referenced_rule_cannot_be_deleted(api_client, admin_user, bearer, admin_post):
    failed = plain("Failed login", "win.security.4625")
    admin_post(correlation_body(rules=[failed.pk]))

    response = api_client.delete(
        reverse("rules:detail", args=[failed.pk]), HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert response.status_code == 409
    assert Rule.objects.filter(pk=failed.pk).exists()


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_two_workers_raise_what_one_worker_raises(attempt):
    many, followed = failed_then_success()
    many.generate = True  # the count alerts too, so both levels are checked
    many.save()
    first = validated(failures(*range(0, 100, 20)))
    second = validated([*failures(*range(10, 100, 20)), event(95, "win.security.4624")])

    assert not any(run_at_once([first, second]))

    (count,) = Alert.objects.filter(rule=many)
    assert count.event_count == 10
    (chain,) = Alert.objects.filter(rule=followed)
    assert chain.event_count == 2


def test_the_admin_refuses_to_delete_a_referenced_rule(admin_client):
    failed = plain("Failed login", "win.security.4625")
    create_rule(**correlation_body(rules=[failed.pk]), condition=None)

    single = admin_client.post(
        reverse("admin:rules_rule_delete", args=[failed.pk]), {"post": "yes"}, follow=True
    )
    bulk = admin_client.post(
        reverse("admin:rules_rule_changelist"),
        {"action": "delete_selected", "_selected_action": [failed.pk], "post": "yes"},
        follow=True,
    )

    assert b"eferenced by correlation rules: Correlated" in single.content
    assert b"eferenced by correlation rules: Correlated" in bulk.content
    assert Rule.objects.filter(pk=failed.pk).exists()
