"""pam_unix messages (alone, or inside sshd/su/sudo/dovecot lines), su and sudo."""

import re
from collections.abc import Callable
from typing import Any

from secalerts.logparsers.events import Parsed, canonical_ip, username_of

# pam_unix(sshd:auth): ... ; old Linux-PAM wrote the module into the tag: su(pam_unix)[1]:
PAM_PREFIX = re.compile(r"pam_(\w+)\(([^:)\s]*):(\w+)\): ")
_KEY_VALUES = re.compile(r"(\w+)=(\S*)")
_MORE_FAILURES = re.compile(r"(?:PAM )?(\d+) more authentication failures?; (.*)", re.S)
_MAX_RETRIES = re.compile(r"PAM service\(([^)]*)\) ignoring max retries; (\d+) > (\d+)")
_SESSION_OPENED = re.compile(r"session opened for user (\S+?)(?:\(uid=\d+\))?(?: by (.*))?\Z", re.S)
_SESSION_CLOSED = re.compile(r"session closed for user (\S+)")


def _failure_fields(key_values: str) -> tuple[str | None, str | None, dict[str, Any]]:
    fields = dict(_KEY_VALUES.findall(key_values))
    data: dict[str, Any] = {}
    rhost = fields.get("rhost")
    if rhost:
        data["rhost"] = rhost
    for key in ("ruser", "tty", "logname"):
        if fields.get(key):
            data[key] = fields[key]
    return canonical_ip(rhost), username_of(fields.get("user")), data


def parse_pam_message(message: str, service: str | None) -> Parsed | None:
    """A pam_unix message with its "pam_unix(service:type): " prefix removed."""
    if message.startswith("authentication failure; "):
        ip, user, data = _failure_fields(message[24:])
        if service:
            data["service"] = service
        return ("pam.auth.failure", "low", ip, user, data)
    if message.startswith("check pass; user unknown"):
        return ("pam.auth.user_unknown", "info", None, None, None)
    if message.startswith("session "):
        match = _SESSION_OPENED.match(message)
        if match is not None:
            by = match.group(2)
            opener = {"by_user": by.partition("(")[0]} if by and by.partition("(")[0] else None
            return ("pam.session.opened", "info", None, username_of(match.group(1)), opener)
        match = _SESSION_CLOSED.match(message)
        if match is not None:
            return ("pam.session.closed", "info", None, username_of(match.group(1)), None)
    return parse_pam_summary(message)


def parse_pam_summary(message: str) -> Parsed | None:
    """Lines libpam itself writes through the calling daemon ("PAM 2 more ...")."""
    match = _MORE_FAILURES.match(message)
    if match is not None:
        ip, user, data = _failure_fields(match.group(2))
        data["repeat_count"] = int(match.group(1)[:6])
        return ("pam.auth.more_failures", "medium", ip, user, data)
    match = _MAX_RETRIES.match(message)
    if match is not None:
        data = {
            "service": match.group(1),
            "attempts": int(match.group(2)[:6]),
            "max_retries": int(match.group(3)[:6]),
        }
        return ("pam.auth.max_retries", "medium", None, None, data)
    if message.startswith("Failed to create session"):
        return ("pam.session.failed", "low", None, None, None)
    return None


def parse_pam_prefixed(message: str) -> Parsed | None:
    """A "pam_<module>(service:type): ..." message inside another daemon's line."""
    match = PAM_PREFIX.match(message)
    if match is None:
        return None
    rest = message[match.end() :]
    if match.group(1) == "unix":
        return parse_pam_message(rest, match.group(2))
    return parse_pam_summary(rest)


def parse_pam_unix(message: str) -> Parsed | None:
    """The program pam_unix, or a tag like su(pam_unix)."""
    return parse_pam_prefixed(message) or parse_pam_message(message, None)


_SU_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Parsed]]] = [
    (
        re.compile(r"FAILED SU \(to (\S+)\) (\S+) on (\S+)"),
        lambda m: ("su.auth.failure", "low", None, username_of(m[2]), _su(m[1], m[3])),
    ),
    (
        re.compile(r"\(to (\S+)\) (\S+) on (\S+)"),
        lambda m: ("su.session.opened", "info", None, username_of(m[2]), _su(m[1], m[3])),
    ),
    (
        re.compile(r"BAD SU (\S+) to (\S+) on (\S+)"),
        lambda m: ("su.auth.failure", "low", None, username_of(m[1]), _su(m[2], m[3])),
    ),
    (
        re.compile(r"failed: (\S+) changing from (\S+) to (\S+)"),
        lambda m: ("su.auth.failure", "low", None, username_of(m[2]), _su(m[3], m[1])),
    ),
    (
        re.compile(r"(\S+) to (\S+) on (\S+)\Z"),
        lambda m: ("su.session.opened", "info", None, username_of(m[1]), _su(m[2], m[3])),
    ),
    # Solaris and old BSD: "+ pts/0 alice-root" / "- pts/0 alice-root"
    (
        re.compile(r"([+-]) (\S+) ([^\s-]+)-(\S+)\Z"),
        lambda m: (
            "su.session.opened" if m[1] == "+" else "su.auth.failure",
            "info" if m[1] == "+" else "low",
            None,
            username_of(m[3]),
            _su(m[4], m[2]),
        ),
    ),
]


def _su(target: str, tty: str) -> dict[str, Any]:
    return {"target_user": target[:255], "tty": tty[:255]}


def parse_su(message: str) -> Parsed | None:
    if message.startswith("pam_"):
        return parse_pam_prefixed(message)
    for pattern, build in _SU_RULES:
        match = pattern.match(message)
        if match is not None:
            return build(match)
    return None


_SUDO = re.compile(r"\s*(\S+) : (.*)", re.S)
_SUDO_KEYS = {"TTY": "tty", "PWD": "pwd", "USER": "target_user", "GROUP": "target_group"}


def parse_sudo(message: str) -> Parsed | None:
    """`alice : [reason ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`"""
    if message.startswith("pam_"):
        return parse_pam_prefixed(message)
    match = _SUDO.match(message)
    if match is None:
        return None
    user, rest = match.groups()
    data: dict[str, Any] = {}
    reason = None
    parts = rest.split(" ; ")
    for index, part in enumerate(parts):
        key, sep, value = part.partition("=")
        if sep and key == "COMMAND":
            data["command"] = " ; ".join([value, *parts[index + 1 :]])[:1024]
            break
        if sep and key in _SUDO_KEYS:
            data[_SUDO_KEYS[key]] = value[:255]
        elif index == 0:
            reason = part
    if not data:
        return None
    if reason is None:
        return ("sudo.command", "info", None, username_of(user), data)
    data["reason"] = reason[:255]
    if "incorrect password" in reason:
        return ("sudo.auth.failure", "low", None, username_of(user), data)
    if "NOT" in reason or "not allowed" in reason:
        return ("sudo.not_allowed", "medium", None, username_of(user), data)
    return ("sudo.error", "low", None, username_of(user), data)
