"""parse_line / parse_lines: one raw log line in, one event dict out, never an exception."""

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from secalerts.logparsers.envelope import (
    Envelope,
    ctime_timestamp,
    parse_envelope,
    parse_untagged,
)
from secalerts.logparsers.events import (
    MAX_MESSAGE,
    MAX_RAW,
    MAX_SOURCE,
    UNPARSED,
    Parsed,
)
from secalerts.logparsers.ftp import parse_proftpd, parse_vsftpd
from secalerts.logparsers.mail import parse_dovecot, parse_postfix
from secalerts.logparsers.pam import parse_pam_unix, parse_su, parse_sudo
from secalerts.logparsers.sshd import parse_dropbear, parse_sshd
from secalerts.logparsers.web import (
    Timed,
    parse_access,
    parse_apache_error,
    parse_iis,
    parse_nginx_error,
    parse_web_message,
)

ProgramParser = Callable[[str], Parsed | None]

PROGRAMS: dict[str, ProgramParser] = {
    "sshd": parse_sshd,
    "sshd-session": parse_sshd,  # OpenSSH 9.8+ logs per-connection work under this name
    "dropbear": parse_dropbear,
    "sudo": parse_sudo,
    "su": parse_su,
    "pam_unix": parse_pam_unix,
    "vsftpd": parse_vsftpd,
    "proftpd": parse_proftpd,
    "dovecot": parse_dovecot,
    "postfix": parse_postfix,
    "nginx": parse_web_message,
    "apache": parse_web_message,
    "apache2": parse_web_message,
    "httpd": parse_web_message,
}
# A repeated sshd failure is its own type (loghub's convention); other repeated events
# keep their type and gain data.repeat_count.
REPEATED_TYPES = {"ssh.auth.failed_password": "ssh.auth.failed_password_repeated"}
_REPEATED = re.compile(r"message repeated (\d{1,9}) times: \[ ?(.*?) ?\]\Z", re.S)
_VSFTPD_LOG = re.compile(
    r"([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}) \[pid (\d{1,10})\] (.*)", re.S
)
_NGINX_ERROR_START = re.compile(r"\d{4}/\d\d/\d\d ")
_IIS_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


@lru_cache(maxsize=1024)
def program_parser(program: str) -> ProgramParser | None:
    """The parser for a syslog tag, including variants: su(pam_unix), postfix/smtpd,
    imap-login."""
    parser = PROGRAMS.get(program)
    if parser is not None:
        return parser
    if program.endswith("(pam_unix)"):
        return parse_pam_unix
    if program.startswith("postfix"):
        return parse_postfix
    if program.endswith(("-login", "auth-worker")):
        return parse_dovecot
    return None


def parse_lines(
    lines: Iterable[str], *, now: datetime, default_host: str | None = None
) -> list[dict[str, Any]]:
    return [parse_line(line, now=now, default_host=default_host) for line in lines]


def parse_line(line: str, *, now: datetime, default_host: str | None = None) -> dict[str, Any]:
    """One event for one line. Unrecognised lines give event_type "log.line" with the line
    in `message`; nothing is dropped and nothing raises."""
    try:
        return _parse(line, now, default_host)
    # A parser bug must not lose the line; tests assert data.parse_error never appears.
    except Exception as error:
        event = _unparsed(str(line), None, _host(None, default_host), None, None, {})
        event["data"]["parse_error"] = type(error).__name__
        return event


def _host(host: str | None, default_host: str | None) -> str:
    return (host or default_host or "unknown")[:MAX_SOURCE]


def _parse(line: str, now: datetime, default_host: str | None) -> dict[str, Any]:
    text = line.rstrip("\r\n")
    if "\x00" in text:
        # PostgreSQL text refuses NUL; the character carries no meaning in a log line.
        text = text.replace("\x00", "\ufffd")
    envelope = parse_envelope(text, now)
    if envelope is not None:
        return _from_envelope(text, envelope, default_host)
    timed = _shaped(text)
    if timed is not None:
        program, (parsed, timestamp) = timed
        return _event(parsed, text, timestamp, _host(None, default_host), program, None, {})
    untagged = parse_untagged(text, now)
    if untagged is not None:
        host = _host(untagged.host, default_host)
        return _unparsed(text, untagged.timestamp, host, None, None, untagged.data)
    return _unparsed(text, None, _host(None, default_host), None, None, {})


def _from_envelope(text: str, envelope: Envelope, default_host: str | None) -> dict[str, Any]:
    host = _host(envelope.host, default_host)
    program = envelope.program
    message = envelope.message.rstrip()
    parser = program_parser(program) if program else None
    parsed = parser(message) if parser is not None else None
    if parsed is None and parser is not None and message.startswith("message repeated "):
        parsed = _repeated(parser, message)
    if parsed is None:
        return _unparsed(
            text, envelope.timestamp, host, program, envelope.pid, envelope.data, message
        )
    return _event(
        parsed, text, envelope.timestamp, host, program, envelope.pid, envelope.data, message
    )


def _repeated(parser: ProgramParser, message: str) -> Parsed | None:
    match = _REPEATED.match(message)
    if match is None:
        return None
    inner = parser(match.group(2))
    if inner is None:
        return None
    event_type, severity, ip, user, data = inner
    data = dict(data or {})
    data["repeat_count"] = int(match.group(1))
    return (REPEATED_TYPES.get(event_type, event_type), severity, ip, user, data)


def _shaped(text: str) -> tuple[str, Timed] | None:
    """Lines with no syslog envelope, recognised by their shape."""
    first = text[:1]
    if first == "[":
        timed = parse_apache_error(text)
        return None if timed is None else ("apache", timed)
    if first.isdigit():
        if _NGINX_ERROR_START.match(text):
            timed = parse_nginx_error(text)
            if timed is not None:
                return ("nginx", timed)
        if _IIS_START.match(text):
            timed = parse_iis(text)
            if timed is not None:
                return ("iis", timed)
    timed = parse_access(text)
    if timed is not None:
        return ("access_log", timed)
    match = _VSFTPD_LOG.match(text)
    if match is not None:
        parsed = parse_vsftpd(match.group(3))
        if parsed is not None:
            return ("vsftpd", (parsed, ctime_timestamp(match.group(1))))
    return None


def _event(
    parsed: Parsed,
    text: str,
    timestamp: datetime | None,
    host: str,
    program: str | None,
    pid: int | None,
    envelope_data: dict[str, Any],
    message: str | None = None,
) -> dict[str, Any]:
    event_type, severity, source_ip, username, extra = parsed
    data: dict[str, Any] = {"program": program}
    if pid is not None:
        data["pid"] = pid
    if envelope_data:
        data.update(envelope_data)
    destination_ip = destination_port = None
    if extra:
        if "destination_ip" in extra or "destination_port" in extra:
            extra = dict(extra)
            destination_ip = extra.pop("destination_ip", None)
            destination_port = extra.pop("destination_port", None)
        data.update(extra)
    data["raw"] = text[:MAX_RAW]
    return {
        "timestamp": timestamp,
        "event_type": event_type,
        "severity": severity,
        "source": host,
        "source_ip": source_ip,
        "destination_ip": destination_ip,
        "destination_port": destination_port,
        "username": username,
        "message": (text if message is None else message)[:MAX_MESSAGE],
        "data": data,
    }


def _unparsed(
    text: str,
    timestamp: datetime | None,
    host: str,
    program: str | None,
    pid: int | None,
    envelope_data: dict[str, Any],
    message: str | None = None,
) -> dict[str, Any]:
    event = _event(
        (UNPARSED, "info", None, None, None), text, timestamp, host, program, pid, envelope_data
    )
    if message is not None and message != text:
        event["data"]["body"] = message[:MAX_RAW]
    return event
