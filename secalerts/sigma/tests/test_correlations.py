"""The Sigma specification's correlation examples, parsed by pySigma, translated to our
rules, and run on events built for each edge: exactly at the timespan, one second over,
one short, out of order, across requests, and (PostgreSQL) across two workers."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule, update_rule
from secalerts.sigma.correlations import (
    UnsupportedCorrelation,
    correlation_rule_from_sigma,
    silenced_references,
)
from tests.concurrent_ingest import run_at_once, validated

SPEC = Path("/work/shared/datasets/sigma_rules/sigma-specification")
EXAMPLES = SPEC / "tests/schema/correlation"
FAILED_LOGIN_ID = "5638f7c0-ac70-491d-8465-2a65075e0d86"
T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="needs the shared Sigma datasets")


def spec_block(marker: str) -> str:
    """The YAML block of the specification's text that holds `marker`."""
    text = (SPEC / "specification/sigma-correlation-rules-specification.md").read_text()
    (block,) = [b for b in re.findall(r"```ya?ml\n(.*?)```", text, re.S) if marker in b]
    return block


def example(name: str) -> SigmaCorrelationRule:
    return SigmaCorrelationRule.from_yaml((EXAMPLES / name).read_text())


@pytest.mark.parametrize(
    ("name", "referenced", "group_by", "correlation"),
    [
        ("event_count.yml", {FAILED_LOGIN_ID: 7}, ["data.ComputerName"],
         {"type": "event_count", "rules": [7], "timespan_seconds": 3600,
          "condition": {"gte": 100}}),
        ("event_count_ecs.yml", {FAILED_LOGIN_ID: 7}, ["data.dns.question.name"],
         {"type": "event_count", "rules": [7], "timespan_seconds": 3600,
          "condition": {"gte": 100}}),
        ("value_count.yml", {FAILED_LOGIN_ID: 7}, ["data.ComputerName", "data.WorkstationName"],
         {"type": "value_count", "rules": [7], "timespan_seconds": 86400,
          "condition": {"gte": 100}, "field": "data.User"}),
        ("temporal.yml", {"recon_cmd_a": 1, "recon_cmd_b": 2, "recon_cmd_c": 3},
         ["data.ComputerName", "data.User"],
         {"type": "temporal", "rules": [1, 2, 3], "timespan_seconds": 300,
          "condition": {"gte": 3}}),
        ("temporal_ordered.yml", {"recon_cmd_a": 1, "recon_cmd_b": 2, "recon_cmd_c": 3},
         ["data.ComputerName", "data.User"],
         {"type": "temporal_ordered", "rules": [1, 2, 3], "timespan_seconds": 300,
          "condition": {"gte": 3}}),
    ],
)  # fmt: skip
def test_spec_examples_translate(name, referenced, group_by, correlation):
    fields = correlation_rule_from_sigma(example(name), referenced)

    assert fields["condition"] is None
    assert fields["group_by"] == group_by
    assert fields["correlation"] == correlation
    assert silenced_references(example(name)) == list(referenced)  # generate: false default


def test_aliases_translate_to_rule_ids():
    text = spec_block("aliases:").replace("title: —\nid: —", "title: Internal error, then")
    rule = SigmaCorrelationRule.from_yaml(text)

    fields = correlation_rule_from_sigma(rule, {"internal_error": 4, "new_network_connection": 5})

    assert fields["group_by"] == ["internal_ip", "remote_ip"]
    assert fields["correlation"]["aliases"] == {
        "internal_ip": {"4": "data.destination.ip", "5": "data.source.ip"},
        "remote_ip": {"4": "data.source.ip", "5": "data.destination.ip"},
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("gte: 100", "lt: 100"), "condition lt"),
        (("gte: 100", "neq: 100"), "condition neq"),
        (("type: event_count", "type: value_sum"), "value_sum"),
        (("    group-by:\n        - ComputerName\n", ""), "group-by"),
        (("5638f7c0-ac70-491d-8465-2a65075e0d86", "not_imported"), "not_imported"),
    ],
)
def test_unsupported_correlations_are_refused_with_the_reason(change, reason):
    text = (EXAMPLES / "event_count.yml").read_text().replace(*change)
    if "value_sum" in text:
        text = text.replace("gte: 100", "field: bytes\n        gte: 100")

    with pytest.raises(UnsupportedCorrelation, match=reason):
        correlation_rule_from_sigma(SigmaCorrelationRule.from_yaml(text), {FAILED_LOGIN_ID: 7})


# Through the real HTTP ingest: base rules written by hand (their import is another
# module's), correlations translated from the specification's text.


def base_rule(name: str, event_ids: list[int], *, generate: bool = False) -> Rule:
    return create_rule(
        name=name,
        severity="low",
        condition={"field": "data.EventID", "op": "in", "value": event_ids},
        generate=generate,
    )


def import_correlation(rule: SigmaCorrelationRule, referenced: dict[str, int]) -> Rule:
    return create_rule(**correlation_rule_from_sigma(rule, referenced))


def event(second: float, event_id: int, **data) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "timestamp": (T0 + timedelta(seconds=second)).isoformat(),
        "event_type": "win.security",
        "source": "dc-1",
        "data": {"EventID": event_id, "ComputerName": "ws-1", "User": "alice"} | data,
    }


@pytest.fixture
def send(api_client, analyst_user, bearer):
    header = bearer(analyst_user)

    def post(events):
        response = api_client.post(
            reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=header
        )
        assert response.status_code == 201, response.json()

    return post


def spread(count: int, span: float) -> list[float]:
    """`count` event times from 0 to `span` seconds, evenly."""
    return [span * k / (count - 1) for k in range(count)]


@pytest.mark.parametrize(
    ("seconds", "fires"),
    [
        (spread(100, 3600), True),  # the first and the hundredth exactly an hour apart
        (spread(100, 3601), False),  # one second over
        (spread(99, 60), False),  # one short
    ],
)
@pytest.mark.parametrize("split", ["one request", "halves, later half first"])
def test_event_count_example(send, seconds, fires, split):
    failed = base_rule("failed login", [4625])
    rule = import_correlation(example("event_count.yml"), {FAILED_LOGIN_ID: failed.pk})
    events = [event(s, 4625) for s in seconds]

    if split == "one request":
        send(events)
    else:
        send(events[len(events) // 2 :])
        send(events[: len(events) // 2])

    assert Alert.objects.filter(rule=rule).count() == (1 if fires else 0)
    assert not Alert.objects.exclude(rule=rule).exists()  # generate: false


@pytest.mark.parametrize(
    ("users", "fires"),
    [
        ([f"user{k}" for k in range(100)], True),
        ([f"user{k}" for k in range(99)] + ["user0"], False),  # one distinct value short
    ],
)
def test_value_count_example(send, users, fires):
    failed = base_rule("failed login", [4625])
    rule = import_correlation(example("value_count.yml"), {FAILED_LOGIN_ID: failed.pk})
    events = [
        event(s, 4625, User=user, WorkstationName="ws-9")
        for s, user in zip(spread(100, 86400), users, strict=True)
    ]

    send(events[::-1])  # out of order

    assert Alert.objects.filter(rule=rule).count() == (1 if fires else 0)


RECON = {"recon_cmd_a": 1, "recon_cmd_b": 2, "recon_cmd_c": 3}


@pytest.mark.parametrize(
    ("times", "temporal", "ordered"),
    [
        ((0, 150, 300), True, True),  # in order, exactly the timespan
        ((0, 150, 301), False, False),  # one second over
        ((300, 150, 0), True, False),  # all within it, reverse order
        ((0, 0, 0), True, True),  # one moment: ties count as in order
    ],
)
def test_temporal_examples(send, times, temporal, ordered):
    recon = {name: base_rule(name, [4688], generate=False) for name in RECON}
    for name, rule in recon.items():  # one command each, by its command line
        rule.condition = {"field": "data.CommandLine", "op": "eq", "value": name}
        update_rule(rule=rule)
    referenced = {name: rule.pk for name, rule in recon.items()}
    unordered = import_correlation(example("temporal.yml"), referenced)
    in_order = import_correlation(example("temporal_ordered.yml"), referenced)

    for name, second in zip(RECON, times, strict=True):  # one request each
        send([event(second, 4688, CommandLine=name)])

    assert Alert.objects.filter(rule=unordered).exists() is temporal
    assert Alert.objects.filter(rule=in_order).exists() is ordered


def import_chain() -> Rule:
    """The specification's "Failed Logins Followed by Successful Login", as written."""
    collection = SigmaCollection.from_yaml(spec_block("Multiple Failed Logins Followed"))
    collection.resolve_rule_references()
    ours: dict[str, int] = {  # the base rules still raising alerts of their own
        "failed_login": base_rule("Single failed login", [529, 4625], generate=True).pk,
        "successful_login": base_rule("Successful login", [528, 4624], generate=True).pk,
    }
    silenced: set[str] = set()
    outer = None
    for rule in collection.rules:  # pySigma orders referenced rules first
        if not isinstance(rule, SigmaCorrelationRule):
            continue
        saved = import_correlation(rule, ours)
        ours[rule.name or str(rule.id)] = saved.pk
        silenced.update(silenced_references(rule))
        outer = saved
    assert silenced == {"failed_login", "successful_login", "multiple_failed_login"}
    for name in silenced:  # what the importer does with Sigma's generate: false
        update_rule(rule=Rule.objects.get(pk=ours[name]), generate=False)
    assert outer is not None
    return outer


@pytest.mark.parametrize(
    ("success_at", "fires"),
    [
        (95, True),
        (90, True),  # the moment the tenth failure reaches the count
        (89, False),  # before it
        (690, True),  # exactly the timespan after
        (691, False),  # one second over
    ],
)
def test_chain_example(send, success_at, fires):
    outer = import_chain()

    send([event(s, 4625) for s in range(50, 100, 10)])  # the later failures first
    send([event(success_at, 4624)])
    send([event(s, 4625) for s in range(0, 50, 10)])

    alerts = list(Alert.objects.all())
    assert [a.rule_id for a in alerts] == ([outer.pk] if fires else [])
    if fires:
        assert alerts[0].severity == "high"
        assert alerts[0].title == (
            "Correlation - Multiple Failed Logins Followed by Successful Login: alice"
        )


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_chain_example_across_two_workers(attempt):
    outer = import_chain()
    first = validated([event(s, 4625) for s in range(0, 100, 20)])
    second = validated([*[event(s, 4625) for s in range(10, 100, 20)], event(95, 4624)])

    assert not any(run_at_once([first, second]))

    (alert,) = Alert.objects.all()
    assert alert.rule_id == outer.pk
    assert alert.event_count == 2  # the tenth failure (the count's moment) and the success
