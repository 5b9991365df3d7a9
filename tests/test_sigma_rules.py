"""All of SigmaHQ imported, and SigmaHQ's own regression tests run through the HTTP API.

SigmaHQ's CI counts each tested rule's hits on its Sysmon sample: fewer than the
`match_count` of its info.yml (default 1) fails. Here the samples go through
POST /api/events/ as a Windows shipper would send them (secalerts.sigma.evtx), with every
rule of rules/, rules-emerging-threats/ and rules-threat-hunting/ loaded.
"""

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from secalerts.events.models import Event
from secalerts.rules.models import Rule
from secalerts.sigma import evtx, services

FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")
# The only reasons a SigmaHQ rule may be skipped for: a logsource no event of ours
# carries, or a feature named in docs/sigma.md.
ALLOWED_SKIPS = (
    re.compile(r"^unmapped logsource \S+$"),
    re.compile(r"^fields not available for logsource \S+: \['cs-content-type'\]$"),
    re.compile(r"^placeholders \(the expand modifier\) are not supported$"),
    re.compile(r"^compiled condition refused: \S+: more than 1000 nodes$"),
)


def regression_tests(sigma_dir: Path) -> list[tuple[str, int, list[dict]]]:
    """(rule id, match_count, sample events) of each regression test with a sample."""
    tests = []
    for info in sorted((sigma_dir / "regression_data").rglob("info.yml")):
        meta = yaml.safe_load(info.read_text())
        if not meta.get("regression_tests_info"):
            continue  # commented out upstream (no sample)
        want = meta["regression_tests_info"][0].get("match_count", 1)
        events = [
            evtx.evtx_to_event(record)
            for sample in sorted(info.parent.glob("*.json"))
            for record in evtx.read_records(sample.read_text())
        ]
        tests.append((meta["rule_metadata"][0]["id"], want, events))
    return tests


def test_all_of_sigmahq_imports_and_passes_its_regression_tests(
    api_client, admin_user, bearer, dataset_dir
):
    sigma_dir = dataset_dir / "sigma_rules"

    result = services.import_sigma(services.documents_from_paths(sigma_dir / f for f in FOLDERS))

    total = len(result.created) + len(result.skipped)
    assert total == 3754
    odd = [s for s in result.skipped if not any(p.match(s["reason"]) for p in ALLOWED_SKIPS)]
    assert odd == []
    unmapped = sum(s["reason"].startswith("unmapped") for s in result.skipped)
    assert len(result.skipped) - unmapped <= 10
    assert len(result.created) > 2900

    tests = regression_tests(sigma_dir)
    assert len(tests) == 150
    events: list[dict] = []
    owner: list[int] = []
    for number, (_, _, sample) in enumerate(tests):
        for event in sample:
            event["id"] = f"00000000-0000-4000-8000-{len(events):012d}"
            events.append(event)
            owner.append(number)
    body = "\n".join(json.dumps(event) for event in events)
    response = api_client.post(
        reverse("events:list"),
        body,
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=bearer(admin_user),
    )
    assert response.status_code == 201, response.content

    rule_of = {
        rule.sigma["id"]: rule.pk
        for rule in Rule.objects.filter(sigma__isnull=False).only("sigma")
        if rule.sigma is not None
    }
    outcome: Counter[str] = Counter()
    failures = []
    for number, (sigma_id, want, _) in enumerate(tests):
        ids = [events[i]["id"] for i in range(len(events)) if owner[i] == number]
        hits = Event.objects.filter(id__in=ids, alerts__rule_id=rule_of.get(sigma_id, 0)).count()
        outcome["pass" if hits >= want else "fail"] += 1
        outcome["exact"] += hits == want
        if hits < want:
            failures.append((sigma_id, hits, want))
    assert failures == []
    assert outcome["pass"] == 150


def test_the_command_imports_files_folders_and_zips_and_groups_skip_reasons(db, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yml").write_text(
        "title: A\nid: 11111111-1111-4111-8111-111111111111\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection: {sel: {Image: a.exe}, condition: sel}\n"
    )
    (folder / "b.yml").write_text(
        "title: B\nlogsource: {product: okta, service: okta}\n"
        "detection: {sel: {x: 1}, condition: sel}\n"
    )
    (tmp_path / "c.yml").write_text("title: [broken")
    out = io.StringIO()

    call_command("import_sigma", str(folder), str(tmp_path / "c.yml"), stdout=out)

    text = out.getvalue()
    assert text.splitlines()[0] == "created 1, updated 0, skipped 2"
    assert "1  unmapped logsource okta/-/okta" in text
    assert "invalid YAML" in text
    assert (Rule.objects.get(name="A").sigma or {}).get(
        "id"
    ) == "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize("folder", ["security_datasets_lsass_dumpert"])
def test_dataset_sigma_expectations_hold_through_imported_rules(
    api_client, admin_user, bearer, dataset_dir, folder
):
    """expected_sigma_<rule>.json: the SigmaHQ rule <rule>.yml, imported, finds exactly
    the events of the ground truth."""
    auth = {"HTTP_AUTHORIZATION": bearer(admin_user)}
    expectations = sorted((dataset_dir / folder).glob("expected_sigma_*.json"))
    assert expectations
    lines = (dataset_dir / folder / "events.ndjson").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    for number, event in enumerate(events):
        event["id"] = f"00000000-0000-4000-8000-{number:012d}"
    rule_ids = {}
    for expected_file in expectations:
        stem = expected_file.stem.removeprefix("expected_sigma_")
        (path,) = (dataset_dir / "sigma_rules").glob(f"rules*/**/{stem}.yml")
        response = api_client.post(
            reverse("sigma:import"), path.read_text(), content_type="application/yaml", **auth
        )
        assert response.status_code == 201, response.content
        (created,) = response.json()["created"]
        rule_ids[expected_file] = created["id"]

    response = api_client.post(
        reverse("events:list"),
        "\n".join(json.dumps(e) for e in events),
        content_type="application/x-ndjson",
        **auth,
    )
    assert response.status_code == 201

    for expected_file, rule_id in rule_ids.items():
        expected = json.loads(expected_file.read_text())
        linked = {
            str(i)
            for i in Event.objects.filter(alerts__rule_id=rule_id).values_list("id", flat=True)
        }
        assert linked == {events[m["event_index"]]["id"] for m in expected["matching_events"]}
