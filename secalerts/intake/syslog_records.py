"""Syslog as log shippers post it -> event dicts: raw lines, or records whose `message`
holds a line (Vector, Fluent Bit, rsyslog `omhttp`) or the message of one whose other
parts are fields of the record. Pure: no Django.

A record's `host`/`hostname` and `timestamp`/`@timestamp`/`date` fields are used when
its line lacks them: Fluent Bit sends `date` as seconds since the epoch, the others ISO
8601 text.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from secalerts.logparsers import UNPARSED, parse_line, parse_message

LINE_FIELDS = ("message", "log")
# A record that names its program carries the message alone, its envelope taken apart:
# Vector's syslog source (appname, procid), Fluent Bit's (ident, pid), Logstash's
# (program, pid), rsyslog's JSON templates (programname, procid).
PROGRAM_FIELDS = ("appname", "ident", "program", "programname")
PID_FIELDS = ("procid", "pid")
HOST_FIELDS = ("host", "hostname")
TIME_FIELDS = ("timestamp", "@timestamp", "date")

__all__ = ["UNPARSED", "lines_to_events", "records_to_events"]


def lines_to_events(
    lines: Sequence[str], *, now: datetime, default_host: str | None = None
) -> list[dict[str, Any]]:
    """`default_host`: the source of lines that name no host (the sender's API key's)."""
    return [parse_line(line, now=now, default_host=default_host) for line in lines]


def records_to_events(
    records: Sequence[Any], *, now: datetime, default_host: str | None = None
) -> list[dict[str, Any]]:
    """One event per record; a record that is not an object with a line in `message`
    (or `log`, Fluent Bit's tail) is stored as an unparsed line of its text, never
    dropped."""
    events = []
    for record in records:
        line = _line(record)
        if line is None:
            events.append(parse_line(json.dumps(record), now=now, default_host=default_host))
            continue
        host = _text(record, HOST_FIELDS) or default_host
        timestamp = _time(next((record[f] for f in TIME_FIELDS if f in record), None))
        program = _text(record, PROGRAM_FIELDS)
        if program:
            event = parse_message(
                line, program=program, pid=_pid(record), host=host, timestamp=timestamp
            )
        else:
            event = parse_line(line, now=now, default_host=host)
            if event["timestamp"] is None:
                event["timestamp"] = timestamp
        events.append(event)
    return events


def _text(record: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    return next((record[f] for f in fields if isinstance(record.get(f), str) and record[f]), None)


def _pid(record: dict[str, Any]) -> int | None:
    value = next((record[f] for f in PID_FIELDS if f in record), None)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def _line(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    return next((record[f] for f in LINE_FIELDS if isinstance(record.get(f), str)), None)


def _time(value: Any) -> datetime | None:
    """An ISO 8601 text or seconds since the epoch; None (time received) when neither."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None
