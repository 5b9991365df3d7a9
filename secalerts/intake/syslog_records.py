"""Syslog as log shippers post it -> event dicts: raw lines, or records whose `message`
holds a line (Vector, Fluent Bit, rsyslog `omhttp`). Pure: no Django.

A record's `host`/`hostname` and `timestamp`/`@timestamp`/`date` fields are used when
its line lacks them: Fluent Bit sends `date` as seconds since the epoch, the others ISO
8601 text.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from secalerts.logparsers import UNPARSED, parse_line

HOST_FIELDS = ("host", "hostname")
TIME_FIELDS = ("timestamp", "@timestamp", "date")

__all__ = ["UNPARSED", "lines_to_events", "records_to_events"]


def lines_to_events(lines: Sequence[str], *, now: datetime) -> list[dict[str, Any]]:
    return [parse_line(line, now=now) for line in lines]


def records_to_events(records: Sequence[Any], *, now: datetime) -> list[dict[str, Any]]:
    """One event per record; a record that is not an object with a `message` text is
    stored as an unparsed line of its JSON text, never dropped."""
    events = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("message"), str):
            events.append(parse_line(str(record), now=now))
            continue
        host = next((record[f] for f in HOST_FIELDS if isinstance(record.get(f), str)), None)
        event = parse_line(record["message"], now=now, default_host=host or None)
        if event["timestamp"] is None:
            event["timestamp"] = _time(next((record[f] for f in TIME_FIELDS if f in record), None))
        events.append(event)
    return events


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
