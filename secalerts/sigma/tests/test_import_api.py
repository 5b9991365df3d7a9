"""POST /api/rules/sigma/: Sigma YAML or a zip in, ordinary rules out, skips with reasons."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from secalerts.alerts.models import Alert
from secalerts.rules.models import Rule, RuleSetVersion
from secalerts.sigma import services
from secalerts.sigma.models import LogsourceMapping

RULE = """
title: Whoami Execution
id: e28a5a99-da44-436d-b7a0-2afc20a5f413
status: test
description: Detects whoami
references: [https://example.com/whoami]
author: Someone
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  filter:
    ParentImage|endswith: '\\trusted.exe'
  condition: selection and not filter
level: high
"""

UNMAPPED = """
title: Okta thing
id: 2a1a5a99-da44-436d-b7a0-2afc20a5f999
logsource: {product: okta, service: okta}
detection: {sel: {eventType: x}, condition: sel}
level: low
"""

BACKREF = """
title: Backreference
id: 3b1a5a99-da44-436d-b7a0-2afc20a5f999
logsource: {product: windows, category: process_creation}
detection: {sel: {CommandLine|re: '(a)\\1'}, condition: sel}
level: low
"""


def post(api_client, user, bearer, body, content_type="application/yaml"):
    return api_client.post(
        reverse("sigma:import"),
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=bearer(user),
    )


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_admin_imports_a_rule_that_then_alerts_on_its_events(api_client, admin_user, bearer):
    response = post(api_client, admin_user, bearer, RULE)

    assert response.status_code == 201, response.content
    body = response.json()
    assert [r["name"] for r in body["created"]] == ["Whoami Execution"]
    assert body["updated"] == []
    assert body["skipped"] == []
    listed = api_client.get(
        reverse("rules:detail", args=[body["created"][0]["id"]]),
        HTTP_AUTHORIZATION=bearer(admin_user),
    ).json()
    assert listed["severity"] == "high"
    assert listed["description"] == "Detects whoami"
    assert listed["sigma"] == {
        "id": "e28a5a99-da44-436d-b7a0-2afc20a5f413",
        "name": None,
        "title": "Whoami Execution",
        "status": "test",
        "level": "high",
        "tags": ["attack.discovery", "attack.t1033"],
        "logsource": {"product": "windows", "category": "process_creation", "service": None},
        "references": ["https://example.com/whoami"],
        "author": "Someone",
    }
    events = [
        {"event_type": "win.sysmon.1", "source": "ws1", "data": {"Image": "C:\\W\\WHOAMI.EXE"}},
        {
            "event_type": "win.sysmon.1",
            "source": "ws1",
            "data": {"Image": "C:\\whoami.exe", "ParentImage": "C:\\trusted.exe"},
        },
        {"event_type": "win.sysmon.3", "source": "ws1", "data": {"Image": "C:\\whoami.exe"}},
        {
            "event_type": "win.security.4688",
            "source": "ws1",
            "data": {"NewProcessName": "x\\whoami.exe"},
        },
    ]
    sent = api_client.post(
        reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )
    assert sent.status_code == 201, sent.content
    # One alert per matching event: the Sysmon 1 and the 4688 one, not the filtered one.
    assert Alert.objects.filter(rule__name="Whoami Execution").count() == 2


def test_reimport_updates_by_sigma_id(api_client, admin_user, bearer):
    first = post(api_client, admin_user, bearer, RULE).json()["created"][0]
    version = RuleSetVersion.objects.get().stamp

    changed = RULE.replace("level: high", "level: informational").replace("Whoami", "WhoAmI")
    response = post(api_client, admin_user, bearer, changed)

    body = response.json()
    assert body["created"] == []
    assert [r["id"] for r in body["updated"]] == [first["id"]]
    rule = Rule.objects.get(pk=first["id"])
    assert (rule.name, rule.severity) == ("WhoAmI Execution", "info")
    assert RuleSetVersion.objects.get().stamp != version


def test_several_documents_with_skips_named(api_client, admin_user, bearer):
    body = "---\n".join([RULE, UNMAPPED, BACKREF])

    response = post(api_client, admin_user, bearer, body)

    assert response.status_code == 201
    skipped = {s["title"]: s for s in response.json()["skipped"]}
    assert skipped["Okta thing"]["reason"] == "unmapped logsource okta/-/okta"
    assert skipped["Okta thing"]["sigma_id"] == "2a1a5a99-da44-436d-b7a0-2afc20a5f999"
    assert "invalid" in skipped["Backreference"]["reason"]
    assert Rule.objects.filter(sigma__isnull=False).count() == 1


def test_name_collisions_are_disambiguated(api_client, admin_user, bearer):
    other = RULE.replace("e28a5a99", "f28a5a99")

    post(api_client, admin_user, bearer, RULE)
    response = post(api_client, admin_user, bearer, other)

    assert [r["name"] for r in response.json()["created"]] == ["Whoami Execution (f28a5a99)"]


def test_a_zip_of_a_rules_folder(api_client, admin_user, bearer):
    archive = zipped({"rules/a.yml": RULE, "rules/b/okta.yaml": UNMAPPED, "README.md": "x"})

    response = post(api_client, admin_user, bearer, archive, "application/zip")

    assert response.status_code == 201, response.content
    assert len(response.json()["created"]) == 1
    assert len(response.json()["skipped"]) == 1


def test_a_zip_bomb_is_refused_and_nothing_is_stored(api_client, admin_user, bearer):
    bomb = zipped({"big.yml": "#" * (services.MAX_RULE_FILE_BYTES + 10), "a.yml": RULE})
    before = Rule.objects.count()

    response = post(api_client, admin_user, bearer, bomb, "application/zip")

    assert response.status_code == 400
    assert "larger than" in json.dumps(response.json())
    assert Rule.objects.count() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        ("title: [unclosed", "application/yaml", 400, "invalid YAML"),
        ("- just\n- a list\n", "application/yaml", 400, "Sigma rule documents"),
        ("PK not really", "application/zip", 400, "not a zip"),
        ("{}", "text/html", 415, "application/yaml"),
        ("[1, 2]", "application/json", 400, "Sigma rule documents"),
    ],
)
def test_bad_uploads_are_a_clear_4xx(
    api_client, admin_user, bearer, body, content_type, status, says
):
    before = Rule.objects.count()

    response = post(api_client, admin_user, bearer, body, content_type)

    assert response.status_code == status
    assert says in json.dumps(response.json())
    assert Rule.objects.count() == before


def test_analysts_may_not_import(api_client, analyst_user, bearer):
    response = post(api_client, analyst_user, bearer, RULE)

    assert response.status_code == 403
    assert not Rule.objects.filter(sigma__isnull=False).exists()


def test_the_logsource_table_is_extensible(api_client, admin_user, bearer, db):
    LogsourceMapping.objects.create(
        product="okta",
        service="okta",
        targets=[{"event_types": ["okta.event"], "fields": {"eventType": "data.type"}}],
    )

    response = post(api_client, admin_user, bearer, UNMAPPED)

    (created,) = response.json()["created"]
    condition = Rule.objects.get(pk=created["id"]).condition
    assert condition == {
        "all": [
            {"field": "event_type", "op": "eq", "value": "okta.event"},
            {"field": "data.type", "op": "eq", "value": "x", "ignore_case": True},
        ]
    }


def test_compile_sigma_compiles_without_saving(db):
    compiled = services.compile_sigma(RULE + "---\n" + UNMAPPED)

    assert [r["name"] for r in compiled.rules] == ["Whoami Execution"]
    assert compiled.rules[0]["severity"] == "high"
    assert [s["title"] for s in compiled.skipped] == ["Okta thing"]
    assert not Rule.objects.filter(sigma__isnull=False).exists()
    with pytest.raises(services.InvalidSigma):
        services.compile_sigma("a: [")


CORRELATION = """
title: Many whoami
id: 5b1a5a99-da44-436d-b7a0-2afc20a5f999
correlation:
  type: event_count
  rules: [e28a5a99-da44-436d-b7a0-2afc20a5f413]
  group-by: [Computer]
  timespan: 1h
  condition: {gte: 3}
level: critical
"""


def test_a_correlation_imports_with_its_rule_and_alerts_instead_of_it(
    api_client, admin_user, bearer
):
    response = post(api_client, admin_user, bearer, RULE + "---\n" + CORRELATION)

    assert response.status_code == 201, response.content
    assert [r["name"] for r in response.json()["created"]] == ["Whoami Execution", "Many whoami"]
    base = Rule.objects.get(name="Whoami Execution")
    correlation = Rule.objects.get(name="Many whoami")
    assert (correlation.correlation or {})["rules"] == [base.pk]
    assert (correlation.group_by, correlation.severity) == (["data.Computer"], "critical")
    assert (correlation.sigma or {})["id"] == "5b1a5a99-da44-436d-b7a0-2afc20a5f999"
    assert not base.generate  # Sigma's default: the rule only feeds its correlation
    events = [
        {
            "event_type": "win.sysmon.1",
            "source": "ws1",
            "timestamp": f"2026-12-04T10:0{minute}:00Z",
            "data": {"Image": "C:\\whoami.exe", "Computer": computer},
        }
        for minute, computer in enumerate(["pc1", "pc1", "pc2", "pc1"])
    ]
    sent = api_client.post(
        reverse("events:list"), events, format="json", HTTP_AUTHORIZATION=bearer(admin_user)
    )

    assert sent.status_code == 201, sent.content
    alerts = Alert.objects.all()
    assert [(a.rule_id, a.group, a.event_count) for a in alerts] == [
        (correlation.pk, {"data.Computer": "pc1"}, 3)
    ]


def test_a_correlation_of_a_rule_not_imported_is_skipped_with_why(api_client, admin_user, bearer):
    response = post(api_client, admin_user, bearer, CORRELATION)

    assert response.status_code == 201, response.content
    assert response.json()["skipped"] == [
        {
            "title": "Many whoami",
            "sigma_id": "5b1a5a99-da44-436d-b7a0-2afc20a5f999",
            "reason": "references e28a5a99-da44-436d-b7a0-2afc20a5f413, which was not imported",
        }
    ]
    assert not Rule.objects.filter(name="Many whoami").exists()


def test_compiling_without_import_skips_correlations(db):
    compiled = services.compile_sigma(RULE + "---\n" + CORRELATION)

    assert [r["name"] for r in compiled.rules] == ["Whoami Execution"]
    assert compiled.skipped == [
        {
            "title": "Many whoami",
            "sigma_id": "5b1a5a99-da44-436d-b7a0-2afc20a5f999",
            "reason": services.CORRELATIONS_NEED_IMPORT,
        }
    ]


def test_a_disabled_row_removes_a_shipped_mapping(api_client, admin_user, bearer):
    LogsourceMapping.objects.filter(product="windows", category="process_creation").delete()
    LogsourceMapping.objects.create(
        product="windows", category="process_creation", targets=[], enabled=False
    )

    response = post(api_client, admin_user, bearer, RULE)

    (skipped,) = response.json()["skipped"]
    assert skipped["reason"] == "unmapped logsource windows/process_creation/-"


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("deep nesting", "[" * 100_000 + "]" * 100_000),
        ("deep mapping", "a: " * 10_000 + "1"),
        ("nul bytes", "title: a\x00b\n"),
        ("invalid utf-8", b"title: \xff\xfe\n"),
        ("aliases", BILLION_LAUGHS),
        ("a rule without detection", "title: x\nlogsource: {product: windows}\n"),
        ("detection not a mapping", "title: x\nlogsource: {}\ndetection: 5\n"),
    ],
)
def test_hostile_yaml_gets_a_json_4xx_or_a_skip(api_client, admin_user, bearer, name, body):
    before = Rule.objects.count()

    response = post(api_client, admin_user, bearer, body)

    assert response.status_code in (201, 400), response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 201:
        assert response.json()["created"] == []
    assert Rule.objects.count() == before


def test_an_oversize_upload_gets_413(api_client, admin_user, bearer, settings):
    body = "#" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)

    response = post(api_client, admin_user, bearer, body)

    assert response.status_code == 413
