"""The intake endpoints as a log shipper sees them: real log lines and the record shapes
Vector, Fluent Bit, Logstash and Filebeat send, atomic and idempotent."""

import gzip
import json

import pytest
from django.urls import reverse

from secalerts.accounts.api_keys import create_key
from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from tests.test_dataset_replays import OPENSSH_RULES, alerted_keys, create_rule_from, load

LOGHUB = "loghub_openssh/OpenSSH_2k_lines0001-1000.log"


@pytest.fixture
def auth(admin_user, bearer) -> dict:
    return {"HTTP_AUTHORIZATION": bearer(admin_user)}


@pytest.fixture
def post(api_client, auth):
    def send(name, body, content_type, **extra):
        extra = auth | extra
        data = body if isinstance(body, bytes) else body.encode()
        url = reverse("events:list") if name == "events_ndjson" else reverse(f"intake:{name}")
        return api_client.generic("POST", url, data, content_type=content_type, **extra)

    return send


def shape(event: Event) -> tuple:
    return (event.event_type, event.source_ip, event.username, event.source)


def shapes() -> list[tuple]:
    return sorted((shape(event) for event in Event.objects.all()), key=repr)


@pytest.mark.parametrize("expected_file", OPENSSH_RULES)
def test_loghub_lines_as_text_raise_the_alerts_of_the_ground_truth(
    post, api_client, auth, dataset_dir, expected_file
):
    expected = json.loads((dataset_dir / "loghub_openssh" / expected_file).read_text())
    rule_id = create_rule_from(api_client, auth, expected)

    response = post("syslog", (dataset_dir / LOGHUB).read_bytes(), "text/plain")

    assert response.status_code == 201, response.content
    assert response.json()["accepted"] == expected["events_total"]
    assert response.json()["unparsed"] == 0
    assert alerted_keys(rule_id, "source_ip") == set(expected["triggered_keys"])


def test_lines_as_text_store_what_the_converted_events_hold(post, dataset_dir):
    post("syslog", (dataset_dir / LOGHUB).read_bytes(), "text/plain")
    from_lines = shapes()
    Event.objects.all().delete()

    ndjson = "\n".join(json.dumps(event) for event in load(dataset_dir, "loghub_openssh"))
    post("events_ndjson", ndjson, "application/x-ndjson")
    from_events = shapes()

    assert from_lines == from_events


def test_a_retried_body_stores_nothing_twice_and_gzip_is_accepted(post, dataset_dir):
    lines = (dataset_dir / LOGHUB).read_bytes()

    first = post("syslog", lines, "text/plain")
    again = post("syslog", gzip.compress(lines), "text/plain", HTTP_CONTENT_ENCODING="gzip")

    assert (first.json()["accepted"], first.json()["duplicates"]) == (1000, 0)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1000)
    assert Event.objects.count() == 1000


SSHD = "sshd[24200]: Failed password for root from 203.0.113.9 port 58410 ssh2"
LINE = f"Dec 10 06:55:46 web-1 {SSHD}"
RECORDS = {
    # Vector's file source: the line in `message`, `host`, `timestamp` (ISO 8601).
    "vector": {"message": LINE, "host": "web-1", "timestamp": "2026-12-01T06:55:46.123Z",
               "source_type": "file"},
    # Fluent Bit's tail: the line under `log`, `date` in seconds since the epoch.
    "fluent-bit": {"date": 1796108146.5, "log": LINE},
    # Logstash's file input: `message`, `@timestamp`, `host`.
    "logstash": {"@timestamp": "2026-12-01T06:55:46Z", "message": LINE, "host": "web-1"},
}  # fmt: skip


@pytest.mark.parametrize("name", RECORDS)
def test_shipper_records_are_parsed_with_their_host_and_time(post, name):
    response = post("syslog", json.dumps(RECORDS[name]) + "\n", "application/x-ndjson")

    assert response.status_code == 201, response.content
    event = Event.objects.get()
    assert shape(event) == ("ssh.auth.failed_password", "203.0.113.9", "root", "web-1")
    assert event.timestamp.strftime("%m-%d %H:%M:%S") == "12-10 06:55:46"  # the line's own


PARTS = {
    # Vector's syslog source, Fluent Bit's syslog input, Logstash's syslog input.
    "vector": {"message": SSHD.split(": ", 1)[1], "appname": "sshd", "procid": 24200,
               "hostname": "web-1", "timestamp": "2026-12-01T06:55:46Z"},
    "fluent-bit": {"message": SSHD.split(": ", 1)[1], "ident": "sshd", "pid": "24200",
                   "host": "web-1", "time": "Dec  1 06:55:46", "date": 1796108146.0},
    "logstash": {"message": SSHD.split(": ", 1)[1], "program": "sshd", "pid": "24200",
                 "host": "web-1", "@timestamp": "2026-12-01T06:55:46.000Z"},
}  # fmt: skip


@pytest.mark.parametrize("name", PARTS)
def test_records_with_their_envelope_taken_apart_are_parsed_alike(post, name):
    response = post("syslog", json.dumps(PARTS[name]), "application/x-ndjson")

    assert response.status_code == 201, response.content
    event = Event.objects.get()
    assert shape(event) == ("ssh.auth.failed_password", "203.0.113.9", "root", "web-1")
    assert (event.data["program"], event.data["pid"]) == ("sshd", 24200)
    assert event.timestamp.isoformat() == "2026-12-01T06:55:46+00:00"


def test_a_record_s_host_and_time_fill_in_what_its_line_lacks(post):
    record = {"message": "something with no envelope", "host": "web-2", "date": 1796108146.5}

    post("syslog", json.dumps(record), "application/x-ndjson")

    event = Event.objects.get()
    assert (event.source, event.timestamp.isoformat()) == (
        "web-2",
        "2026-12-01T06:55:46.500000+00:00",
    )


def test_unknown_lines_are_kept_as_log_line_events(post):
    response = post("syslog", "something no parser knows\n\nanother one\n", "text/plain")

    assert response.json()["unparsed"] == 2
    assert sorted(Event.objects.values_list("event_type", "message")) == [
        ("log.line", "another one"),
        ("log.line", "something no parser knows"),
    ]


FILEBEAT = {
    "@timestamp": "2026-12-01T06:55:46.000Z",
    "event": {"action": "ssh_login", "category": ["authentication"], "outcome": "failure",
              "severity": 50},
    "host": {"name": "web-1", "os": {"family": "debian"}},
    "source": {"ip": "203.0.113.9", "port": 58410},
    "destination": {"ip": "198.51.100.2", "port": 22},
    "user": {"name": "root"},
    "process": {"name": "sshd", "pid": 24200},
    "message": "Failed password for root",
}  # fmt: skip


def test_ecs_documents_map_onto_events_and_keep_the_rest_in_data(post):
    response = post("ecs", json.dumps([FILEBEAT]), "application/json")

    assert response.status_code == 201, response.content
    event = Event.objects.get()
    assert shape(event) == ("ssh_login", "203.0.113.9", "root", "web-1")
    assert (event.destination_ip, event.destination_port, event.severity) == (
        "198.51.100.2", 22, "high"
    )  # fmt: skip
    assert event.data == {
        "event": {"action": "ssh_login", "category": ["authentication"], "outcome": "failure",
                  "severity": 50},
        "host": {"os": {"family": "debian"}},
        "source": {"port": 58410},
        "process": {"name": "sshd", "pid": 24200},
    }  # fmt: skip


def test_ecs_with_dotted_names_and_log_level(post):
    doc = {"@timestamp": "2026-12-01T06:55:46Z", "host.name": "fw-1", "log.level": "warning",
           "event.category": "network", "event.type": "denied", "source.ip": "203.0.113.7"}  # fmt: skip

    post("ecs", json.dumps(doc) + "\n", "application/x-ndjson")

    event = Event.objects.get()
    assert (event.event_type, event.source, event.severity, event.source_ip) == (
        "network.denied", "fw-1", "medium", "203.0.113.7"
    )  # fmt: skip
    assert event.data == {"log.level": "warning", "event.category": "network",
                          "event.type": "denied"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status"),
    [
        ("ecs", '[{"host": {"name": "a"}}, 5]', "application/json", 400),
        (
            "ecs",
            '[{"host": {"name": "a"}, "user": {"name": "' + "x" * 300 + '"}}]',
            "application/json",
            400,
        ),
        ("ecs", "[]", "application/json", 400),
        ("syslog", "", "text/plain", 400),
        ("syslog", "line\n" * 1001, "text/plain", 413),
        ("syslog", "<xml/>", "application/xml", 415),
    ],
)
def test_bad_intake_requests_store_nothing(post, name, body, content_type, status):
    response = post(name, body, content_type)

    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert not Event.objects.exists()


def test_an_ingest_key_sends_to_intake_and_is_recorded(api_client, db):
    key = create_key(name="fluent-bit", scopes=["ingest"], created_by=None, source="web-9")[1]

    response = api_client.generic(
        "POST", reverse("intake:syslog"), b"no host here\n", content_type="text/plain",
        HTTP_X_API_KEY=key,
    )  # fmt: skip

    assert response.status_code == 201, response.content
    event = Event.objects.get()
    assert event.received_by == {"kind": "api_key", "name": "fluent-bit"}
    assert event.source == "web-9"  # the key's source: the line names no host
    assert not Alert.objects.exists()


def test_ecs_takes_no_plain_text(post):
    response = post("ecs", "{}", "text/plain")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_key_request_with_a_number_for_a_string_gets_400(api_client, auth):
    response = api_client.post(
        reverse("accounts:keys"), {"name": "x", "scopes": ["ingest"], "source": -2.5},
        format="json", **auth,
    )  # fmt: skip

    assert response.status_code == 400
    assert "source" in response.json()
