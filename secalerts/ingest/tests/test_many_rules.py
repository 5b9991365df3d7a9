"""POST /api/events/ with thousands of rules loaded: each event meets only the rules whose
literals it holds, and the alerts are those of every rule run over every event."""

import json
import uuid

import pytest
from django.urls import reverse

from secalerts import detection
from secalerts.alerts.models import AlertEvent
from secalerts.rules import registry
from secalerts.rules.models import Rule

PROCESS = {"field": "event_type", "op": "in", "value": ["win.sysmon.1", "win.security.4688"]}
RULES = 2000


def text(field, op, value, ignore_case=True):
    return {"field": field, "op": op, "value": value, "ignore_case": ignore_case}


def condition(n):
    """Sigma's usual shapes, each rule with its own literals; a few name none."""
    if n % 500 == 499:  # no literal: run over every process event
        return {"all": [PROCESS, {"not": text("data.Image", "contains", "\\windows\\")}]}
    if n % 500 == 498:  # no event type: run over every event
        return {"any": [text("data.Tags", "contains", f"tag{n}"), text("message", "eq", f"m{n}")]}
    detections = [
        text("data.Image", "endswith", f"\\tool{n}.exe"),
        {"all": [{"any": [text("data.OriginalFileName", "eq", f"T{n}.EXE"),
                          text("data.Image", "endswith", f"\\t{n}.exe")]},
                 text("data.CommandLine", "contains", f"-x{n} ")]},
        {"all": [{"field": "data.CommandLine", "op": "regex", "value": f"run{n}\\s+now"},
                 {"not": text("data.User", "eq", "SYSTEM")}]},
        text("data.CommandLine", "startswith", f"cmd /c Straße{n}"),
    ]  # fmt: skip
    return {"all": [PROCESS, detections[n % 4]]}


def process(image, command_line="", **data):
    return {
        "id": str(uuid.uuid4()),
        "event_type": "win.sysmon.1",
        "source": "sysmon",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"Image": image, "CommandLine": command_line, **data},
    }


EVENTS = [
    process("C:\\Temp\\TOOL8.EXE"),  # rule 8, folded
    process("C:\\Temp\\tool8.exe.bak"),  # no suffix
    process("C:\\t13.exe", "a -X13 b"),  # rule 13 by its image
    process("C:\\x.exe", "a -x13 b", OriginalFileName="t13.exe"),  # rule 13 by its file name
    process("C:\\t13.exe", "a -x13"),  # no " " after the flag
    process("C:\\x.exe", "run6   now", User="alice"),  # rule 6's regex
    process("C:\\x.exe", "RUN6 now"),  # the regex is case-sensitive
    process("C:\\x.exe", "run6 now", User="SYSTEM"),  # filtered out
    process("C:\\x.exe", "CMD /C STRASSE11 go"),  # rule 11: "ß" folds to "ss"
    process("C:\\Windows\\x.exe", "", Tags=["TAG498", "y"]),  # rule 498 through a list
    process("C:\\Windows\\tool1000.exe", 3, Tags="tag998"),  # 1000; 998 wants a list element
    {"id": str(uuid.uuid4()), "event_type": "auth.failure", "message": "M1498", "source": "x",
     "timestamp": "2026-01-01T00:00:00Z", "data": {"Image": "\\tool8.exe"}},  # 1498 untyped
    {"id": str(uuid.uuid4()), "event_type": "win.sysmon.1", "source": "x",
     "timestamp": "2026-01-01T00:00:00Z", "data": {"Image": None}},  # 499, 999...
]  # fmt: skip


@pytest.fixture
def many_rules(db):
    Rule.objects.bulk_create(
        Rule(name=f"rule {n}", severity="low", condition=condition(n)) for n in range(RULES)
    )
    registry.bump_version()


@pytest.mark.django_db(transaction=True)
def test_alerts_are_those_of_every_rule_over_every_event(
    many_rules, api_client, analyst_user, bearer
):
    rules = {rule.pk: rule.compile() for rule in Rule.objects.filter(enabled=True)}
    names = dict(Rule.objects.values_list("pk", "name"))
    expected = {
        (names[pk], event["id"])
        for pk, rule in rules.items()
        if rule.threshold is None  # the shipped brute-force rule wants 5 events
        for event in EVENTS
        if rule.matches(event)
    }

    response = api_client.post(
        reverse("events:list"),
        json.dumps(EVENTS),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(analyst_user),
    )

    assert response.status_code == 201, response.content
    found = {
        (names.get(link.alert.rule_id or 0), str(link.event_id))
        for link in AlertEvent.objects.select_related("alert")
    }
    assert found == expected
    assert {name for name, _ in expected} >= {f"rule {n}" for n in (8, 13, 6, 11, 498, 1000, 1498)}
    assert ("rule 8", EVENTS[1]["id"]) not in found


@pytest.mark.django_db
def test_each_event_meets_a_few_of_the_rules(many_rules):
    ruleset = registry.active_rules()
    stats = detection.SelectStats()
    events = [event | {"timestamp": None} for event in EVENTS]

    detection.select(events, ruleset.index, stats)

    assert ruleset.index.by_type["win.sysmon.1"].literals is not None
    assert max(stats.candidates) <= 12  # of 2000 rules (3 always: 499, 999...; the untyped)
