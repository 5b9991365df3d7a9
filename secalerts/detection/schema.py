"""The event schema and the severity scale, defined once: the Event model, validation,
storage rows, serializers, payloads, conflict checks and rule fields all derive from here.

Standard library only, like the rest of detection, so every layer may import it.
Adding an event field: a line in EVENT_SCHEMA, the model field, its migration.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

SEVERITIES = ("info", "low", "medium", "high", "critical")  # lowest first
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
DEFAULT_SEVERITY = "info"

# Event time must leave room for every window and dedup computation (years 1 and 9999
# overflowed them); both bounds inclusive. logparsers keeps a copy (it imports nothing
# of ours); test_schema_contract holds the two to one rule.
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)

EVENT_TYPE_PATTERN = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$"


def iso_time(value: datetime) -> str:
    """A time as every JSON payload writes it: ISO 8601, "Z" for UTC (as DRF does)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class Kind(StrEnum):
    """What a field holds; each path maps a kind to its own type, check or conversion."""

    UUID = "uuid"
    TIME = "time"  # an aware datetime, UTC once validated
    EVENT_TYPE = "event_type"  # text of EVENT_TYPE_PATTERN
    SEVERITY = "severity"  # one of SEVERITIES
    TEXT = "text"  # stored as sent, no NUL characters
    IP = "ip"  # an IPv4/IPv6 address, canonical once validated
    INTEGER = "integer"
    JSON = "json"  # a JSON object
    SENDER = "sender"  # {"kind": ..., "name": ...}, set by the server


@dataclass(frozen=True, slots=True)
class EventField:
    name: str
    kind: Kind
    required: bool = False  # optional fields may be null or absent alike
    sent: bool = True  # False: the server fills it in, a client may not send it
    max_length: int | None = None  # characters (TEXT, EVENT_TYPE)
    min_value: int | None = None  # INTEGER
    max_value: int | None = None  # INTEGER
    max_bytes: int | None = None  # JSON, encoded
    max_depth: int | None = None  # JSON, levels of nesting
    help_text: str = ""


# In the model's column order. The model states the same fields for Django (migrations
# need them spelled out); test_schema_contract keeps the two equal.
EVENT_SCHEMA = (
    EventField("id", Kind.UUID, help_text="Client-chosen id: retries are idempotent."),
    EventField(
        "timestamp",
        Kind.TIME,
        help_text=(
            "When it happened: ISO 8601; no zone means UTC; default: now; "
            f"from {iso_time(EARLIEST_TIMESTAMP)} to {iso_time(LATEST_TIMESTAMP)}."
        ),
    ),
    EventField("received_at", Kind.TIME, sent=False, help_text="When the backend stored it."),
    EventField(
        "event_type",
        Kind.EVENT_TYPE,
        required=True,
        max_length=100,
        help_text="Lowercase words of a-z 0-9 _ - joined by dots, e.g. auth.failure.",
    ),
    EventField("severity", Kind.SEVERITY, help_text=f"Default {DEFAULT_SEVERITY}."),
    EventField(
        "source",
        Kind.TEXT,
        required=True,
        max_length=255,
        help_text="The sensor or host that reported it.",
    ),
    EventField("source_ip", Kind.IP),
    EventField("destination_ip", Kind.IP),
    EventField("destination_port", Kind.INTEGER, min_value=0, max_value=65535),
    EventField("username", Kind.TEXT, max_length=255),
    EventField("message", Kind.TEXT, max_length=10_000),
    EventField(
        "data",
        Kind.JSON,
        max_bytes=64 * 1024,
        max_depth=32,
        help_text="Free-form extra fields.",
    ),
    EventField(
        "received_by",
        Kind.SENDER,
        sent=False,
        help_text='Who sent it: {"kind": "user" | "api_key" | "syslog", "name": ...}.',
    ),
)

# What a client sends, and so what rules may look at.
SENT_FIELDS = tuple(field.name for field in EVENT_SCHEMA if field.sent)
