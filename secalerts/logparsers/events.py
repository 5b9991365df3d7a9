"""The event shape the parsers produce and the small value helpers they share."""

import ipaddress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

UNPARSED = "log.line"
SEVERITIES = ("info", "low", "medium", "high", "critical")
MAX_SOURCE = 255
MAX_USERNAME = 255
MAX_MESSAGE = 10_000
# data.raw sits in the 64 KiB data object beside parsed fields; JSON may escape each
# character to six bytes, so the raw copy stays far below that.
MAX_RAW = 4096
# What POST /api/events/ accepts, both bounds inclusive: detection.schema's rule, kept here
# because the parsers import nothing of ours (test_schema_contract holds the two equal).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# What a program parser returns: event type, severity, source ip (canonical or None),
# username (or None), extra data (or None). "destination_ip"/"destination_port" in the
# extra data are lifted to the top level.
Parsed = tuple[str, str, str | None, str | None, dict[str, Any] | None]


@lru_cache(maxsize=8192)
def canonical_ip(text: str | None) -> str | None:
    """The canonical form of an IPv4/IPv6 address (IPv4-mapped IPv6 as IPv4), else None.

    Scoped IPv6 addresses (fe80::1%eth0) give None: the scope names a local interface
    of the reporting host and means nothing to the backend."""
    if not text or "%" in text or len(text) > 45:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def in_range(moment: datetime | None) -> datetime | None:
    """The UTC time, or None outside what the ingest accepts (EARLIEST..LATEST inclusive)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo is not UTC else moment
    return moment if EARLIEST <= moment <= LATEST else None


def username_of(text: str | None) -> str | None:
    if not text or text == "-":
        return None
    return text[:MAX_USERNAME]
