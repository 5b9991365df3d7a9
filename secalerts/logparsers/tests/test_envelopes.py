"""Syslog envelopes, timestamps and the event shape every line gets."""

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from secalerts.logparsers import SEVERITIES, UNPARSED, parse_line, parse_lines

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
EVENT_KEYS = {
    "timestamp",
    "event_type",
    "severity",
    "source",
    "source_ip",
    "destination_ip",
    "destination_port",
    "username",
    "message",
    "data",
}
EVENT_TYPE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*\Z")


def test_rfc5424_with_structured_data():
    line = (
        "<165>1 2024-06-30T11:59:01.003Z gw01.example.com sshd 811 ID47 [exampleSDID@32473 "
        'iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] '
        "Failed password for root from 203.0.113.9 port 4242 ssh2"
    )

    event = parse_line(line, now=NOW)

    assert event["event_type"] == "ssh.auth.failed_password"
    assert event["source"] == "gw01.example.com"
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, 3000, tzinfo=UTC)
    assert (event["data"]["facility"], event["data"]["syslog_severity"]) == (20, 5)
    assert event["data"]["pid"] == 811
    assert event["data"]["msgid"] == "ID47"
    assert event["data"]["structured_data"] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"},
    }


def test_rfc5424_nilvalues():
    line = "<34>1 - - su - - - \ufeff(to root) alice on pts/0"

    event = parse_line(line, now=NOW, default_host="collector")

    assert event["event_type"] == "su.session.opened"
    assert event["timestamp"] is None
    assert event["source"] == "collector"
    assert "pid" not in event["data"]
    assert "structured_data" not in event["data"]
    assert event["message"] == "(to root) alice on pts/0"


def test_rfc5424_escaped_structured_data_value():
    line = r'<13>1 2024-06-30T11:59:01+02:00 h app - - [x@1 a="q\"b\]c"] hello'

    event = parse_line(line, now=NOW)

    assert event["data"]["structured_data"] == {"x@1": {"a": 'q"b]c'}}
    assert event["timestamp"] == datetime(2024, 6, 30, 9, 59, 1, tzinfo=UTC)
    assert event["event_type"] == UNPARSED


def test_rfc3164_with_pid():
    event = parse_line(
        "<38>Jun 30 11:59:01 gw01 sshd[811]: Invalid user oracle from 203.0.113.9", now=NOW
    )

    assert event["event_type"] == "ssh.auth.invalid_user"
    assert (event["data"]["facility"], event["data"]["syslog_severity"]) == (4, 6)
    assert event["data"]["pid"] == 811


def test_rfc3164_without_pid_and_single_digit_day():
    event = parse_line("<86>Jun  3 01:02:03 gw01 su: (to root) alice on pts/0", now=NOW)

    assert event["event_type"] == "su.session.opened"
    assert "pid" not in event["data"]
    assert event["data"]["program"] == "su"
    assert event["timestamp"] == datetime(2024, 6, 3, 1, 2, 3, tzinfo=UTC)


def test_rfc3164_without_host_uses_default():
    event = parse_line("<86>Jun 30 11:59:01 su: (to root) alice on pts/0", now=NOW)

    assert event["event_type"] == "su.session.opened"
    assert event["source"] == "unknown"


def test_year_rollover_puts_december_lines_in_the_previous_year():
    january = datetime(2025, 1, 1, 0, 5, tzinfo=UTC)

    december = parse_line("Dec 31 23:59:58 h sshd[1]: Invalid user a from 192.0.2.1", now=january)
    tomorrow = parse_line("Jan  2 00:00:00 h sshd[1]: Invalid user a from 192.0.2.1", now=january)
    too_far = parse_line("Jan  2 00:05:01 h sshd[1]: Invalid user a from 192.0.2.1", now=january)

    assert december["timestamp"] == datetime(2024, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert tomorrow["timestamp"] == datetime(2025, 1, 2, tzinfo=UTC)
    assert too_far["timestamp"] == datetime(2024, 1, 2, 0, 5, 1, tzinfo=UTC)


def test_february_29th_in_a_common_year_has_no_timestamp():
    now = datetime(2023, 6, 30, tzinfo=UTC)

    event = parse_line("Feb 29 10:00:00 h sshd[1]: Invalid user a from 192.0.2.1", now=now)

    assert event["timestamp"] is None
    assert event["event_type"] == "ssh.auth.invalid_user"


def test_iso_timestamp_with_offset_is_converted_to_utc():
    line = "2024-06-30T13:59:01.5+02:00 gw01 sshd[1]: Invalid user a from 192.0.2.1"

    event = parse_line(line, now=NOW)

    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, 500000, tzinfo=UTC)


def test_untagged_line_keeps_host_and_time():
    event = parse_line("Jun 30 11:59:01 gw01 something without a tag", now=NOW)

    assert event["event_type"] == UNPARSED
    assert event["source"] == "gw01"
    assert event["timestamp"] == datetime(2024, 6, 30, 11, 59, 1, tzinfo=UTC)


def test_garbage_is_one_unparsed_event():
    events = parse_lines(["", "   ", "\x00\x01", "<999>1 x"], now=NOW)

    assert [e["event_type"] for e in events] == [UNPARSED] * 4
    assert all(e["source"] == "unknown" for e in events)
    assert "\x00" not in events[2]["message"]


def test_long_lines_are_bounded():
    line = "Jun 30 11:59:01 gw01 sshd[1]: " + "x" * 50_000

    event = parse_line(line, now=NOW)

    assert len(event["message"]) == 10_000
    assert len(event["data"]["raw"]) == 4096


def assert_event_shape(event: dict) -> None:
    assert set(event) == EVENT_KEYS
    assert EVENT_TYPE.match(event["event_type"])
    assert event["severity"] in SEVERITIES
    assert isinstance(event["source"], str)
    assert 0 < len(event["source"]) <= 255
    assert len(event["message"]) <= 10_000
    assert event["username"] is None or 0 < len(event["username"]) <= 255
    port = event["destination_port"]
    assert port is None or 0 <= port <= 65535
    timestamp = event["timestamp"]
    assert timestamp is None or (
        timestamp.tzinfo is UTC
        and datetime(1970, 1, 1, tzinfo=UTC) <= timestamp <= datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert isinstance(event["data"], dict)
    assert "program" in event["data"]
    assert "parse_error" not in event["data"]


# Fragments of real lines, so random text reaches deep into the parsers.
FRAGMENTS = [
    "<13>",
    "<191>1 ",
    "Dec 31 23:59:59 ",
    "Feb 29 00:00:00 ",
    "2099-12-31T23:59:59-05:00 ",
    "9999-12-31T23:59:59+14:00 ",
    "0001-01-01T00:00:00 ",
    "host ",
    "sshd[1]: ",
    "su(pam_unix)[2]: ",
    "postfix/smtpd[3]: ",
    "dovecot: ",
    "dropbear[4]: ",
    "sudo: ",
    "Failed password for ",
    "invalid user ",
    " from ",
    "::ffff:1.2.3.4",
    "fe80::1%eth0",
    " port 99999999999",
    "message repeated 5 times: [ ",
    "]",
    "pam_unix(sshd:auth): authentication failure; rhost=",
    "PAM 3 more authentication failures; ",
    '[30/Jun/2024:11:00:00 +9999] "GET / HTTP/1.1" 200 - ',
    "[Sun Jun 30 11:59:01 2024] [error] [client ",
    "2024/06/30 11:59:01 [crit] 1#1: ",
    "2015-07-28 15:07:26 1.2.3.4 GET / - 80 - 5.6.7.8 UA 200 0 0 1",
    "2015-07-28 15:07:26 1.2.3.4 GET / - 99999 - 5.6.7.8 UA 200 0 0 1",
    " : TTY=pts/0 ; COMMAND=",
    'FAIL LOGIN: Client "',
    "Sun Jun 30 11:59:01 2024 [pid 1] ",
    '- - [x@1 a="\\""] ',
    "\x00",
    "\n",
]
lines = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=12).map("".join)


@settings(max_examples=1500, deadline=None)
@given(line=lines | st.text(), year=st.integers(1969, 2101))
def test_any_text_gives_one_valid_event(line, year):
    now = datetime(year, 6, 30, tzinfo=UTC) if 1970 <= year <= 2100 else NOW

    event = parse_line(line, now=now, default_host=None)

    assert_event_shape(event)


def test_ipv6_host_and_hostless_tag_with_colon_in_message():
    ipv6 = parse_line("Jun 30 11:59:01 2001:db8::5 sshd[1]: Invalid user a from 192.0.2.1", now=NOW)
    hostless = parse_line("Jun 30 11:59:01 sshd[1]: error: Could not load host key", now=NOW)

    assert (ipv6["source"], ipv6["event_type"]) == ("2001:db8::5", "ssh.auth.invalid_user")
    assert (hostless["source"], hostless["event_type"]) == ("unknown", "ssh.error")
