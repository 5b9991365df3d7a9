"""Syslog envelopes (RFC 5424, RFC 3164, bare /var/log lines) and their timestamps."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from secalerts.logparsers.events import in_range

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
ONE_DAY = timedelta(days=1)

# <PRI>? then a BSD "Mmm dd hh:mm:ss" or an ISO 8601 time (rsyslog's RFC 3339 file
# format, macOS' "2020-03-23 06:47:42.801612-0700"), HOST, TAG[PID]: MSG. The host is
# optional because many RFC 3164 senders leave it out; a token ending in ":" is a tag,
# never a host, which keeps IPv6 hosts whole.
_TAGGED = re.compile(
    r"(?:<(\d{1,3})>)?"
    r"(?:([A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d)"
    r"|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?))"
    r" +(?:(\S*[^\s:]) +)?([^\s\[\]:]+)(?:\[(\d{0,10})\])?: ?(.*)",
    re.S,
)
# The same without a TAG: kernel-style lines, or anything after host we cannot split.
_UNTAGGED = re.compile(
    r"(?:<(\d{1,3})>)?"
    r"(?:([A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d)"
    r"|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?))"
    r" +(\S+)(?: (.*))?",
    re.S,
)
_RFC5424 = re.compile(
    r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?",
    re.S,
)
_SD_ELEMENT = re.compile(r"\[([^\s\]=\"]+)((?:\s+[^\s\]=\"]+=\"(?:[^\"\\]|\\.)*\")*)\s*\]", re.S)
_SD_PARAM = re.compile(r"([^\s\]=\"]+)=\"((?:[^\"\\]|\\.)*)\"", re.S)
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")
# Solaris prefixes messages with a message id and facility.level.
_SOLARIS_ID = re.compile(r"\[ID \d+ [\w.]+\] ")
MAX_SD_ITEMS = 32
MAX_SD_VALUE = 256


@dataclass(slots=True)
class Envelope:
    timestamp: datetime | None
    host: str | None
    program: str | None
    pid: int | None
    message: str
    data: dict[str, Any]


@lru_cache(maxsize=4096)
def _bsd_time(text: str, year: int) -> datetime | None:
    try:
        return datetime(
            year,
            MONTHS[text[:3]],
            int(text[4:6]),
            int(text[7:9]),
            int(text[10:12]),
            int(text[13:15]),
            tzinfo=UTC,
        )
    except (KeyError, ValueError):
        return None


@lru_cache(maxsize=4096)
def bsd_timestamp(text: str, now: datetime) -> datetime | None:
    """A year-less "Mmm dd hh:mm:ss" in UTC: `now`'s year, or the year before if that
    would put it more than a day in the future (rsyslog's and Elastic's rule)."""
    if len(text) == 14:  # "Feb 9 ..." written with one space
        text = f"{text[:4]} {text[4:]}"
    moment = _bsd_time(text, now.year)
    if moment is None or moment > now + ONE_DAY:
        moment = _bsd_time(text, now.year - 1)
    return in_range(moment)


@lru_cache(maxsize=1024)
def ctime_timestamp(text: str) -> datetime | None:
    """ "Fri Dec 13 06:59:54 2013" or "Tue Sep 30 11:30:13.262255 2014" (no zone: UTC)."""
    if len(text) < 24:
        return None
    return in_range(
        _bsd_time(f"{text[4:11]}{text[11:19]}", int(text[-4:]) if text[-4:].isdigit() else 0)
    )


@lru_cache(maxsize=4096)
def iso_timestamp(text: str) -> datetime | None:
    """An ISO 8601 time; without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return in_range(moment)
    except OverflowError:
        return None


def _priority(data: dict[str, Any], pri: str | None) -> None:
    if pri is not None:
        value = int(pri)
        if value <= 191:
            data["facility"] = value >> 3
            data["syslog_severity"] = value & 7


def _int_pid(text: str | None) -> int | None:
    return int(text) if text else None


def parse_envelope(line: str, now: datetime) -> Envelope | None:
    """The syslog envelope of a line, or None if it has none we know."""
    if line.startswith("<"):
        end = line.find(">", 1, 5)
        if end > 0 and line[end + 1 : end + 3] == "1 ":
            return _parse_5424(line)
    match = _TAGGED.match(line)
    if match is not None:
        pri, bsd, iso, host, program, pid, message = match.groups()
        data: dict[str, Any] = {}
        if pri is not None:
            _priority(data, pri)
        if message.startswith("[ID "):
            solaris = _SOLARIS_ID.match(message)
            if solaris is not None:
                message = message[solaris.end() :]
        return Envelope(
            bsd_timestamp(bsd, now) if bsd else iso_timestamp(iso),
            host,
            program,
            _int_pid(pid),
            message,
            data,
        )
    return None


def parse_untagged(line: str, now: datetime) -> Envelope | None:
    """A timestamp and host with no program tag after them."""
    match = _UNTAGGED.match(line)
    if match is None:
        return None
    pri, bsd, iso, host, message = match.groups()
    data: dict[str, Any] = {}
    _priority(data, pri)
    timestamp = bsd_timestamp(bsd, now) if bsd else iso_timestamp(iso)
    return Envelope(timestamp, host, None, None, message or "", data)


def _parse_5424(line: str) -> Envelope | None:
    match = _RFC5424.match(line)
    if match is None:
        return None
    pri, stamp, host, app, procid, msgid, sd, message = match.groups()
    data: dict[str, Any] = {}
    _priority(data, pri)
    if msgid != "-":
        data["msgid"] = msgid[:64]
    if procid != "-" and not procid.isdecimal():
        data["procid"] = procid[:128]
    if sd != "-":
        data["structured_data"] = _structured_data(sd)
    message = message or ""
    if message.startswith("\ufeff"):
        message = message[1:]
    return Envelope(
        None if stamp == "-" else iso_timestamp(stamp),
        None if host == "-" else host,
        None if app == "-" else app,
        int(procid) if procid.isdecimal() and len(procid) <= 10 else None,
        message,
        data,
    )


def _structured_data(sd: str) -> dict[str, dict[str, str]]:
    """SD-ELEMENTs as {sd_id: {param: value}}, bounded so data stays small."""
    elements: dict[str, dict[str, str]] = {}
    items = 0
    for element in _SD_ELEMENT.finditer(sd):
        params = elements.setdefault(element.group(1)[:64], {})
        for name, value in _SD_PARAM.findall(element.group(2)):
            items += 1
            if items > MAX_SD_ITEMS:
                return elements
            params[name[:64]] = _SD_UNESCAPE.sub(r"\1", value)[:MAX_SD_VALUE]
    return elements
