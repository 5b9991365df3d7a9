"""dovecot and postfix messages: logins, SASL failures, rejects."""

import re
from typing import Any

from secalerts.logparsers.events import Parsed, canonical_ip, username_of
from secalerts.logparsers.pam import parse_pam_prefixed

# "imap-login: ", "auth: ", "auth-worker(123): ", then dovecot 2.x's optional level.
_DOVECOT_PREFIX = re.compile(r"(?:([\w-]+)(?:\(\d+\))?: )?(?:Info: |Warning: |Error: )?")
_FIELD = re.compile(r"(user|method|rip|lip)=<?([^>,\s]*)>?")
_AUTH_FAILED = re.compile(r"\(auth failed, (\d+) attempts?")
# passwd-file(alice,203.0.113.9): unknown user / pam(alice,203.0.113.9,<s>): ... failed
_PASSDB = re.compile(r"(?:[\w-]+)\(([^,()]*),([^,()]*)(?:,[^()]*)?\): (.*)", re.S)


def parse_dovecot(message: str) -> Parsed | None:
    prefix = _DOVECOT_PREFIX.match(message)
    service = prefix.group(1) if prefix else None
    rest = message[prefix.end() :] if prefix else message
    if rest.startswith("pam_"):
        return parse_pam_prefixed(rest)
    if rest.startswith(("Login: ", "Disconnected", "Aborted login")):
        fields = dict(_FIELD.findall(rest))
        data: dict[str, Any] = {}
        if service:
            data["service"] = service[:64]
        if fields.get("method"):
            data["auth_method"] = fields["method"][:64]
        if fields.get("lip"):
            data["destination_ip"] = canonical_ip(fields["lip"])
        ip, user = canonical_ip(fields.get("rip")), username_of(fields.get("user"))
        if rest.startswith("Login: "):
            return ("mail.auth.accepted", "info", ip, user, data)
        failed = _AUTH_FAILED.search(rest)
        if failed is not None:
            data["attempts"] = int(failed.group(1)[:6])
            return ("mail.auth.failed", "low", ip, user, data)
        return ("mail.connection.closed", "info", ip, user, data)
    passdb = _PASSDB.match(rest)
    if passdb is not None:
        user, ip, reason = passdb.groups()
        if "unknown user" in reason or "mismatch" in reason or "failed" in reason:
            data = {"reason": reason[:255]}
            return ("mail.auth.failed", "low", canonical_ip(ip), username_of(user), data)
    return None


_CLIENT = r"([^\[\s]*)\[([^\]]*)\]"
_SASL_FAILED = re.compile(r"warning: " + _CLIENT + r": SASL (\S+) authentication failed(.*)", re.S)
_REJECT = re.compile(
    r"(?:NOQUEUE|\w+): reject: (\S+) from " + _CLIENT + r": (\d{3}) (?:\d\.\d+\.\d+ )?(.*)",
    re.S,
)
_SASL_LOGIN = re.compile(r"\w+: client=" + _CLIENT + r", sasl_method=(\S+), sasl_username=(\S+)")
_CONNECTION = re.compile(r"(connect|disconnect|lost connection after \S+) from " + _CLIENT)


def parse_postfix(message: str) -> Parsed | None:
    if message.startswith("warning: "):
        match = _SASL_FAILED.match(message)
        if match is not None:
            host, ip, mechanism, reason = match.groups()
            data: dict[str, Any] = {"mechanism": mechanism[:32], "client_host": host[:255]}
            if reason.startswith(": "):
                data["reason"] = reason[2:257]
            return ("mail.auth.failed", "low", canonical_ip(ip), None, data)
        return None
    match = _REJECT.match(message)
    if match is not None:
        stage, host, ip, code, rest = match.groups()
        data = {"stage": stage[:32], "client_host": host[:255], "code": int(code)}
        # str.partition, not a regex: the reason is free text and may repeat "; from=<".
        reason, found, envelope = rest.partition("; from=<")
        data["reason"] = reason[:255]
        if found:
            sender, _, after = envelope.partition(">")
            data["from"] = sender[:255]
            if after.startswith(" to=<"):
                data["to"] = after[5:].partition(">")[0][:255]
        return ("mail.rejected", "low", canonical_ip(ip), None, data)
    match = _SASL_LOGIN.match(message)
    if match is not None:
        host, ip, mechanism, user = match.groups()
        data = {"mechanism": mechanism.rstrip(",")[:32], "client_host": host[:255]}
        return ("mail.auth.accepted", "info", canonical_ip(ip), username_of(user), data)
    match = _CONNECTION.match(message)
    if match is not None:
        what, host, ip = match.groups()
        event_type = {"connect": "mail.connection.opened", "disconnect": "mail.connection.closed"}
        data = {"client_host": host[:255]}
        if what.startswith("lost"):
            data["stage"] = what.rpartition(" ")[2][:32]
        return (event_type.get(what, "mail.connection.lost"), "info", canonical_ip(ip), None, data)
    return None
