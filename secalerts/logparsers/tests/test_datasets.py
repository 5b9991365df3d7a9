"""The parsers agree with ground truth nobody here wrote: loghub's converted events and
template ids, and Wazuh's ruleset test lines."""

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secalerts.logparsers import UNPARSED, parse_line, parse_lines

LOGHUB = "loghub_openssh"
LOG = "OpenSSH_2k_lines0001-1000.log"
# events.ndjson assumed year 2017 and UTC for the year-less lines of December 2017.
NOW = datetime(2017, 12, 31, 23, 59, 59, tzinfo=UTC)

# loghub template id -> our event type. Ids sharing a type differ only in wording:
# E9/E10 (failed password, valid or invalid user: data.invalid_user tells them apart),
# E15/E16/E17 (PAM "N more authentication failure(s)", with or without user=),
# E6/E7/E24/E25/E26 (a client's "Received disconnect", whatever its reason text),
# E4/E5 (too many failures for admin / for root).
TEMPLATE_TYPES = {
    "E1": "ssh.auth.accepted",
    "E2": "ssh.connection.closed",
    "E3": "ssh.no_identification",
    "E4": "ssh.auth.too_many_failures",
    "E5": "ssh.auth.too_many_failures",
    "E6": "ssh.disconnect",
    "E7": "ssh.disconnect",
    "E8": "ssh.auth.failed_none",
    "E9": "ssh.auth.failed_password",
    "E10": "ssh.auth.failed_password",
    "E11": "ssh.error",
    "E12": "ssh.auth.invalid_user_request",
    "E13": "ssh.auth.invalid_user",
    "E14": "ssh.auth.failed_password_repeated",
    "E15": "pam.auth.more_failures",
    "E16": "pam.auth.more_failures",
    "E17": "pam.auth.more_failures",
    "E18": "pam.auth.max_retries",
    "E19": "pam.auth.failure",
    "E20": "pam.auth.failure",
    "E21": "pam.auth.user_unknown",
    "E22": "pam.session.closed",
    "E23": "pam.session.opened",
    "E24": "ssh.disconnect",
    "E25": "ssh.disconnect",
    "E26": "ssh.disconnect",
    "E27": "ssh.reverse_mapping_failed",
}
SHARED_TYPES = {
    "ssh.auth.too_many_failures": {"E4", "E5"},
    "ssh.auth.failed_password": {"E9", "E10"},
    "pam.auth.more_failures": {"E15", "E16", "E17"},
    "pam.auth.failure": {"E19", "E20"},
    "ssh.disconnect": {"E6", "E7", "E24", "E25", "E26"},
}
COMPARED = ("event_type", "severity", "source", "source_ip", "username", "message")
COMPARED_DATA = ("pid", "port", "repeat_count", "rhost", "invalid_user", "auth_method")


@pytest.fixture
def loghub(dataset_dir: Path) -> Path:
    return dataset_dir / LOGHUB


def _raw_lines(loghub: Path) -> list[str]:
    return (loghub / LOG).read_text().splitlines()


def test_every_loghub_line_agrees_with_the_converted_events(loghub):
    expected = [json.loads(line) for line in (loghub / "events.ndjson").read_text().splitlines()]
    lines = _raw_lines(loghub)

    events = parse_lines(lines, now=NOW)

    assert len(events) == len(expected) == 1000
    disagreements = []
    for event, want in zip(events, expected, strict=True):
        got = {key: event[key] for key in COMPARED}
        got["timestamp"] = event["timestamp"].isoformat().replace("+00:00", "Z")
        got.update({key: event["data"].get(key) for key in COMPARED_DATA})
        wanted = {key: want[key] for key in (*COMPARED, "timestamp")}
        wanted.update({key: want["data"].get(key) for key in COMPARED_DATA})
        if got != wanted:
            disagreements.append((want["data"]["line_no"], got, wanted))
    assert disagreements == []
    assert all(event["data"]["raw"] == line for event, line in zip(events, lines, strict=True))
    assert not any("parse_error" in event["data"] for event in events)


def test_template_id_mapping_is_a_function(loghub):
    with (loghub / "OpenSSH_2k_lines0001-1000.log_structured.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    with (loghub / "OpenSSH_2k.log_templates.csv").open(newline="") as f:
        template_ids = {row["EventId"] for row in csv.DictReader(f)}
    lines = _raw_lines(loghub)

    seen: dict[str, set[str]] = defaultdict(set)
    for row, line in zip(rows, lines, strict=True):
        seen[row["EventId"]].add(parse_line(line, now=NOW)["event_type"])

    assert set(TEMPLATE_TYPES) == template_ids
    assert {tid: types for tid, types in seen.items() if len(types) != 1} == {}
    assert {tid: types.pop() for tid, types in seen.items()} == {
        tid: TEMPLATE_TYPES[tid] for tid in seen
    }
    by_type: dict[str, set[str]] = defaultdict(set)
    for tid, event_type in TEMPLATE_TYPES.items():
        by_type[event_type].add(tid)
    assert {t: ids for t, ids in by_type.items() if len(ids) > 1} == SHARED_TYPES


# Wazuh decoders these parsers cover. IIS W3C lines (web-accesslog-iis*) are recognised too.
OUR_DECODERS = {
    "sshd",
    "pam",
    "su",
    "apache-errorlog",
    "web-accesslog",
    "web-accesslog-iis-default",
    "web-accesslog-iis6",
}
# Recognised-line counts per Wazuh test file (lines, parsed, unparsed), stated so a
# regression in any one file shows.
WAZUH_COUNTS = {
    "apache.ini": (12, 12, 0),
    "pam.ini": (5, 5, 0),
    "sshd.ini": (71, 71, 0),
    "su.ini": (5, 5, 0),
    "web_rules.ini": (10, 10, 0),
}


def test_wazuh_ruleset_lines_parse_and_ours_are_recognised(dataset_dir):
    cases = [
        json.loads(line)
        for line in (dataset_dir / "wazuh_ruleset_tests" / "cases.ndjson").read_text().splitlines()
    ]
    now = datetime(2020, 12, 31, tzinfo=UTC)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    unrecognised = []
    for case in cases:
        for line in case["logs"]:
            event = parse_line(line, now=now)
            parsed = event["event_type"] != UNPARSED
            counts[case["file"]]["lines"] += 1
            counts[case["file"]]["parsed" if parsed else "unparsed"] += 1
            if case["expected_decoder"] in OUR_DECODERS and not parsed:
                unrecognised.append(line)

    assert unrecognised == []
    assert {
        name: (c["lines"], c["parsed"], c["unparsed"]) for name, c in counts.items()
    } == WAZUH_COUNTS


def test_wazuh_source_ips_agree_where_the_converter_found_one(dataset_dir):
    cases = [
        json.loads(line)
        for line in (dataset_dir / "wazuh_ruleset_tests" / "cases.ndjson").read_text().splitlines()
    ]
    now = datetime(2020, 12, 31, tzinfo=UTC)

    mismatches = []
    for case in cases:
        for line, converted in zip(case["logs"], case["events"], strict=True):
            event = parse_line(line, now=now)
            want = converted["source_ip"]
            # The converter takes the first address of a line; on IIS W3C lines that is
            # the server's (s-ip), which we report as destination_ip.
            got = event["destination_ip" if event["data"].get("format") == "iis" else "source_ip"]
            if want is not None and got != want:
                mismatches.append((line, got, want))

    assert mismatches == []
