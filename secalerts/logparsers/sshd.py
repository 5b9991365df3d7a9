"""OpenSSH sshd and dropbear messages. Dispatched by the message's first word, so each
line meets only the few patterns that could match it."""

import re
from collections.abc import Callable
from typing import Any

from secalerts.logparsers.events import Parsed, canonical_ip, username_of
from secalerts.logparsers.pam import parse_pam_prefixed, parse_pam_summary

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Parsed]]
_PREAUTH = r"(?: \[preauth\])?\Z"


def _port(text: str | None) -> int | None:
    return int(text) if text and len(text) <= 5 else None


def _with_port(data: dict[str, Any], port: str | None) -> dict[str, Any]:
    value = _port(port)
    if value is not None:
        data["port"] = value
    return data


_FAILED_TYPES = {
    "password": "ssh.auth.failed_password",
    "none": "ssh.auth.failed_none",
    "publickey": "ssh.auth.failed_publickey",
}


def _failed(m: re.Match[str]) -> Parsed:
    method, invalid, user, ip, port = m.groups()
    event_type = _FAILED_TYPES.get(method)
    if event_type is None:
        event_type = (
            "ssh.auth.failed_keyboard_interactive"
            if method.startswith("keyboard-interactive")
            else "ssh.auth.failed"
        )
    data: dict[str, Any] = {"port": int(port)} if len(port) <= 5 else {}
    if invalid:
        data["invalid_user"] = True
    if event_type not in _FAILED_TYPES.values():
        data["auth_method"] = method[:64]
    return (event_type, "low", canonical_ip(ip), username_of(user), data)


def _accepted(m: re.Match[str]) -> Parsed:
    method, user, ip, port = m.groups()
    data = _with_port({"auth_method": method[:64]}, port)
    return ("ssh.auth.accepted", "info", canonical_ip(ip), username_of(user), data)


def _disconnect(m: re.Match[str]) -> Parsed:
    ip, port, code, reason = m.groups()
    data: dict[str, Any] = _with_port({}, port)
    data["reason_code"] = int(code[:6])
    data["reason"] = reason[:255]
    return ("ssh.disconnect", "info", canonical_ip(ip), None, data)


def _disconnecting(m: re.Match[str]) -> Parsed:
    user, ip, port, reason = m.groups()
    if reason and "Too many authentication failures" in reason:
        return ("ssh.auth.too_many_failures", "medium", canonical_ip(ip), username_of(user), None)
    data = _with_port({}, port)
    if reason:
        data["reason"] = reason[:255]
    return ("ssh.disconnect", "info", canonical_ip(ip), username_of(user), data)


def _user_ip_port(event_type: str, severity: str) -> Callable[[re.Match[str]], Parsed]:
    def build(m: re.Match[str]) -> Parsed:
        user, ip, port = m.groups()
        return (event_type, severity, canonical_ip(ip), username_of(user), _with_port({}, port))

    return build


def _ip_port(event_type: str, severity: str) -> Callable[[re.Match[str]], Parsed]:
    def build(m: re.Match[str]) -> Parsed:
        ip, port = m.group(1), m.group(2)
        return (event_type, severity, canonical_ip(ip), None, _with_port({}, port))

    return build


def _reverse_mapping(m: re.Match[str]) -> Parsed:
    rhost, ip = m.group("rhost"), m.group("ip")
    return ("ssh.reverse_mapping_failed", "medium", canonical_ip(ip), None, {"rhost": rhost[:255]})


def _pam_error(m: re.Match[str]) -> Parsed:
    what, illegal, user, rhost = m.groups()
    data: dict[str, Any] = {"rhost": rhost[:255], "service": "sshd"}
    if illegal:
        data["invalid_user"] = True
    if what == "authentication error":
        return ("pam.auth.failure", "low", canonical_ip(rhost), username_of(user), data)
    return ("pam.auth.user_unknown", "info", canonical_ip(rhost), username_of(user), data)


_USER_PORT = r"(?:(?:invalid |authenticating )?user (.*?) )?(\S+)(?: port (\d+))?"
_RECEIVED_DISCONNECT: Rule = (
    re.compile(r"Received disconnect from (\S+?)(?: port (\d+))?: (\d+): ?(.*?)" + _PREAUTH, re.S),
    _disconnect,
)
_MAX_ATTEMPTS: Rule = (
    re.compile(
        r"maximum authentication attempts exceeded for (?:invalid user )?(.*?) from (\S+)"
        r"(?: port (\d+))?"
    ),
    _user_ip_port("ssh.auth.too_many_failures", "medium"),
)
_PAM_ERROR: Rule = (
    re.compile(
        r"PAM: (authentication error|unknown user|User not known to the underlying "
        r"authentication module) for (illegal user )?(.*?) from (\S+)\Z"
    ),
    _pam_error,
)
_NEGOTIATION: Rule = (
    re.compile(r"Unable to negotiate(?: with (\S+?)(?: port (\d+))?:)?"),
    _ip_port("ssh.negotiation_failed", "low"),
)

# First word of the message -> rules tried in order.
SSHD_RULES: dict[str, list[Rule]] = {
    "Failed": [
        (
            re.compile(
                r"Failed (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)(?: ssh\d?)?"
                + _PREAUTH,
                re.S,
            ),
            _failed,
        )
    ],
    "Accepted": [
        (
            re.compile(r"Accepted (\S+) for (.*?) from (\S+) port (\d+)(?: ssh\d?)?(?::.*)?\Z"),
            _accepted,
        )
    ],
    "Invalid": [
        (
            re.compile(r"Invalid user (.*?) from (\S+)(?: port (\d+))?" + _PREAUTH, re.S),
            _user_ip_port("ssh.auth.invalid_user", "low"),
        )
    ],
    "input_userauth_request:": [
        (
            re.compile(r"input_userauth_request: invalid user (.*?)" + _PREAUTH, re.S),
            lambda m: ("ssh.auth.invalid_user_request", "info", None, username_of(m[1]), None),
        )
    ],
    "User": [
        (
            re.compile(r"User (.*?) from (\S+) not allowed because (.*)", re.S),
            lambda m: (
                "ssh.auth.user_not_allowed",
                "low",
                canonical_ip(m[2]),
                username_of(m[1]),
                {"reason": m[3][:255]},
            ),
        )
    ],
    "Postponed": [
        (
            re.compile(r"Postponed (\S+) for (?:invalid user )?(.*?) from (\S+) port (\d+)"),
            lambda m: (
                "ssh.auth.postponed",
                "info",
                canonical_ip(m[3]),
                username_of(m[2]),
                _with_port({"auth_method": m[1][:64]}, m[4]),
            ),
        )
    ],
    "Connection": [
        (
            re.compile(r"Connection closed by " + _USER_PORT + _PREAUTH, re.S),
            _user_ip_port("ssh.connection.closed", "info"),
        ),
        (
            re.compile(r"Connection reset by " + _USER_PORT + _PREAUTH, re.S),
            _user_ip_port("ssh.connection.reset", "info"),
        ),
    ],
    "Read": [
        (
            re.compile(r"Read error from remote host (\S+?)(?: port (\d+))?: "),
            _ip_port("ssh.connection.reset", "info"),
        )
    ],
    "Received": [_RECEIVED_DISCONNECT],
    "Disconnected": [
        (
            re.compile(r"Disconnected from " + _USER_PORT + _PREAUTH, re.S),
            _user_ip_port("ssh.disconnect", "info"),
        )
    ],
    "Disconnecting:": [
        (
            re.compile(
                r"Disconnecting: Too many authentication failures"
                r"(?: for (?:invalid user )?(.*?))?" + _PREAUTH,
                re.S,
            ),
            lambda m: ("ssh.auth.too_many_failures", "medium", None, username_of(m[1]), None),
        ),
        (
            re.compile(r"Disconnecting: (.*?)" + _PREAUTH, re.S),
            lambda m: ("ssh.disconnect", "info", None, None, {"reason": m[1][:255]}),
        ),
    ],
    "Disconnecting": [
        (
            re.compile(
                r"Disconnecting (?:(?:invalid|authenticating) )?user (.*?) (\S+) port (\d+)"
                r"(?:: (.*?))?" + _PREAUTH,
                re.S,
            ),
            _disconnecting,
        )
    ],
    "Did": [
        (
            re.compile(r"Did not receive identification string from (\S+)(?: port (\d+))?"),
            _ip_port("ssh.no_identification", "low"),
        )
    ],
    "Bad": [
        (
            re.compile(r"Bad protocol version identification .* from (\S+)(?: port (\d+))?", re.S),
            _ip_port("ssh.protocol_error", "low"),
        ),
        (
            re.compile(r"Bad packet length"),
            lambda m: ("ssh.protocol_error", "low", None, None, None),
        ),
    ],
    "Corrupted": [
        (
            re.compile(r"Corrupted MAC on input"),
            lambda m: ("ssh.protocol_error", "low", None, None, None),
        )
    ],
    "reverse": [
        (
            re.compile(
                r"reverse mapping checking getaddrinfo for (?P<rhost>\S+) \[(?P<ip>[^\]]+)\] failed"
            ),
            _reverse_mapping,
        )
    ],
    "Address": [
        (
            re.compile(
                r"Address (?P<ip>\S+) maps to (?P<rhost>[^,\s]+), but this does not map back"
            ),
            _reverse_mapping,
        )
    ],
    "Authentication": [
        (
            re.compile(r"Authentication refused: (.*)", re.S),
            lambda m: ("ssh.auth.refused", "low", None, None, {"reason": m[1][:255]}),
        )
    ],
    "subsystem": [
        (
            re.compile(r"subsystem request for (\S+) by user (\S+) failed"),
            lambda m: (
                "ssh.subsystem.failed",
                "low",
                None,
                username_of(m[2]),
                {"subsystem": m[1][:255]},
            ),
        )
    ],
    "error:": [
        _RECEIVED_DISCONNECT,
        _MAX_ATTEMPTS,
        _PAM_ERROR,
        (re.compile(r".*", re.S), lambda m: ("ssh.error", "low", None, None, None)),
    ],
    "fatal:": [
        _NEGOTIATION,
        (re.compile(r".*", re.S), lambda m: ("ssh.error", "low", None, None, None)),
    ],
}
_WORD_PREFIXED = {"error:", "fatal:"}


def parse_sshd(message: str) -> Parsed | None:
    word, _, rest = message.partition(" ")
    rules = SSHD_RULES.get(word)
    if rules is not None:
        text = rest if word in _WORD_PREFIXED else message
        for pattern, build in rules:
            match = pattern.match(text)
            if match is not None:
                return build(match)
        return None
    if word.startswith("pam_"):
        return parse_pam_prefixed(message)
    if word == "PAM":
        return parse_pam_summary(message)
    if word.startswith("debug"):
        return ("ssh.debug", "info", None, None, None)
    return None


# dropbear writes "ip:port", IPv6 as "[addr]:port".
_HOSTPORT = r"\[?([^\s\[\]]+?)\]?:(\d+)(?=[\s,)>]|\Z)"
DROPBEAR_RULES: list[Rule] = [
    (
        re.compile(r"Bad password attempt for '(.*)' from " + _HOSTPORT, re.S),
        _user_ip_port("ssh.auth.failed_password", "low"),
    ),
    (
        re.compile(r"Login attempt for nonexistent user(?: '(.*)')? from " + _HOSTPORT, re.S),
        _user_ip_port("ssh.auth.invalid_user", "low"),
    ),
    (
        re.compile(r"(?:Password|Pubkey) auth succeeded for '(.*)' (?:with .* )?from " + _HOSTPORT),
        _user_ip_port("ssh.auth.accepted", "info"),
    ),
    (
        re.compile(r"Exit before auth \(user '(.*)', \d+ fails\): Max auth tries reached"),
        lambda m: ("ssh.auth.too_many_failures", "medium", None, username_of(m[1]), None),
    ),
    (
        re.compile(r"Child connection from " + _HOSTPORT),
        _ip_port("ssh.connection.opened", "info"),
    ),
    (
        re.compile(r"Exit \((.*?)\)(?: from <" + _HOSTPORT + r">)?: (.*)", re.S),
        lambda m: (
            "ssh.disconnect",
            "info",
            canonical_ip(m[2]),
            username_of(m[1]),
            _with_port({"reason": m[4][:255]}, m[3]),
        ),
    ),
    (
        re.compile(r"Exit before auth(?: from <" + _HOSTPORT + r">)?: (.*)", re.S),
        lambda m: ("ssh.disconnect", "info", canonical_ip(m[1]), None, {"reason": m[3][:255]}),
    ),
]


def parse_dropbear(message: str) -> Parsed | None:
    for pattern, build in DROPBEAR_RULES:
        match = pattern.match(message)
        if match is not None:
            return build(match)
    return None
