"""vsftpd and proftpd messages."""

import re
from typing import Any

from secalerts.logparsers.events import Parsed, canonical_ip, username_of

# [alice] FAIL LOGIN: Client "203.0.113.9"   /   CONNECT: Client "::ffff:203.0.113.9"
_VSFTPD = re.compile(
    r"(?:\[(?P<user>[^\]]*)\] )?(?:(?P<status>OK|FAIL) )?(?P<op>[A-Z][A-Z ]*): "
    r'Client "(?P<ip>[^"]*)"(?:, (?P<rest>.*))?',
    re.S,
)


def parse_vsftpd(message: str) -> Parsed | None:
    match = _VSFTPD.match(message)
    if match is None:
        return None
    user, status, op, ip, rest = match.group("user", "status", "op", "ip", "rest")
    source_ip = canonical_ip(ip)
    if op == "LOGIN" and status is not None:
        if status == "OK":
            return ("ftp.auth.accepted", "info", source_ip, username_of(user), None)
        return ("ftp.auth.failed", "low", source_ip, username_of(user), None)
    if op == "CONNECT":
        return ("ftp.connection.opened", "info", source_ip, None, None)
    data: dict[str, Any] = {"command": op.lower()[:32], "ok": status != "FAIL"}
    if rest:
        data["detail"] = rest[:1024]
    return (
        "ftp.command",
        "info" if status != "FAIL" else "low",
        source_ip,
        username_of(user),
        data,
    )


# host.example.com (client.example.net[203.0.113.9]) - USER alice: no such user found ...
_PROFTPD = re.compile(r"\S+ \(([^\[\s]*)\[([^\]]*)\]\) - (.*)", re.S)
_PROFTPD_USER = re.compile(r"(?:USER|ANON) (.*?)(?: \(Login failed\))?: (.*)", re.S)
_PROFTPD_MAX = re.compile(r"Maximum login attempts \((\d+)\) exceeded")


def parse_proftpd(message: str) -> Parsed | None:
    match = _PROFTPD.match(message)
    if match is None:
        return None
    rhost, ip, rest = match.groups()
    source_ip = canonical_ip(ip)
    data: dict[str, Any] = {"rhost": rhost[:255]} if rhost and rhost != ip else {}
    user_match = _PROFTPD_USER.match(rest)
    if user_match is not None:
        user, outcome = user_match.groups()
        data["reason"] = outcome[:255]
        if outcome.startswith("Login successful"):
            return ("ftp.auth.accepted", "info", source_ip, username_of(user), data)
        if outcome.startswith("no such user"):
            return ("ftp.auth.invalid_user", "low", source_ip, username_of(user), data)
        return ("ftp.auth.failed", "low", source_ip, username_of(user), data)
    max_match = _PROFTPD_MAX.match(rest)
    if max_match is not None:
        data["max_attempts"] = int(max_match.group(1)[:6])
        return ("ftp.auth.too_many_failures", "medium", source_ip, None, data)
    if rest.startswith("SECURITY VIOLATION"):
        data["reason"] = rest[:255]
        return ("ftp.auth.failed", "medium", source_ip, None, data)
    if rest.startswith("FTP session opened"):
        return ("ftp.session.opened", "info", source_ip, None, data or None)
    if rest.startswith("FTP session closed"):
        return ("ftp.session.closed", "info", source_ip, None, data or None)
    return None
