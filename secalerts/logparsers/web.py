"""nginx/apache access logs (common, combined, vhost_combined), IIS W3C lines, and
nginx/apache error logs. Access lines carry no syslog envelope: they are recognised by
their shape."""

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from secalerts.logparsers.envelope import MONTHS, ctime_timestamp, iso_timestamp
from secalerts.logparsers.events import Parsed, canonical_ip, in_range, username_of

Timed = tuple[Parsed, datetime | None]

# prefix tokens (client ident user, or vhost:port client ident user) [time] "request"
# status bytes ["referer" "user agent"]. Escaped quotes (nginx writes \") are allowed.
_ACCESS = re.compile(
    r"((?:\S+ ){1,6}?)\[(\d{1,2}/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
    r'"((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: +"((?:[^"\\]|\\.)*)" +"((?:[^"\\]|\\.)*)")?',
    re.S,
)
_APACHE_ERROR = re.compile(
    r"(?:\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] )?"
    r"\[(?:([\w-]*):)?(emerg|alert|crit|error|warn|notice|info|debug|trace\d)\] "
    r"(?:\[pid (\d+)(?::tid \d+)?\] )?(?:\[client ([^\]]+)\] )?(.*)",
    re.S,
)
_NGINX_ERROR = re.compile(
    r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(emerg|alert|crit|error|warn|notice|info|debug)\] "
    r"(\d+)#\d+: (.*)",
    re.S,
)
_NGINX_FIELD = re.compile(r", (client|server|request|host): \"?([^\",]*)")
_ERROR_SEVERITY = {"emerg": "medium", "alert": "medium", "crit": "medium", "error": "low"}
_HTTP_METHODS = frozenset(
    ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "PROPFIND")
)


@lru_cache(maxsize=4096)
def _clf_time(text: str) -> datetime | None:
    """10/Oct/2000:13:55:36 -0700"""
    try:
        day, month, rest = text.split("/", 2)
        local = datetime(
            int(rest[:4]),
            MONTHS[month],
            int(day),
            int(rest[5:7]),
            int(rest[8:10]),
            int(rest[11:13]),
            tzinfo=UTC,
        )
        offset = timedelta(hours=int(rest[-4:-2]), minutes=int(rest[-2:]))
        return in_range(local - offset if rest[-5] == "+" else local + offset)
    except (KeyError, ValueError, OverflowError):
        return None


def access_severity(status: int) -> str:
    """5xx: the server failed, perhaps under attack; 401/403/407: refused credentials or
    access; everything else is ordinary traffic."""
    if status >= 500:
        return "medium"
    if status in (401, 403, 407):
        return "low"
    return "info"


def parse_access(line: str) -> Timed | None:
    if '] "' not in line[:1024]:
        return None
    match = _ACCESS.match(line)
    if match is None:
        return None
    prefix, stamp, request, status, size, referer, agent = match.groups()
    tokens = prefix.split()
    client = next((ip for ip in map(canonical_ip, tokens) if ip is not None), None)
    data: dict[str, Any] = {"status": int(status), "bytes": 0 if size == "-" else int(size)}
    method, _, rest = request.partition(" ")
    path, _, protocol = rest.rpartition(" ") if " HTTP/" in rest else (rest, "", "")
    data["method"] = method[:32]
    data["path"] = path[:2048]
    if protocol:
        data["protocol"] = protocol[:32]
    if referer is not None and referer != "-":
        data["referer"] = referer[:1024]
    if agent is not None and agent != "-":
        data["user_agent"] = agent[:1024]
    if client is None and tokens:
        data["client"] = tokens[0][:255]
    if ":" in tokens[0] and canonical_ip(tokens[0]) is None:
        data["vhost"] = tokens[0][:255]
    user = username_of(tokens[-1]) if len(tokens) >= 3 else None
    parsed = ("web.access", access_severity(int(status)), client, user, data)
    return parsed, _clf_time(stamp)


def parse_iis(line: str) -> Timed | None:
    """W3C extended lines: date time [s-sitename s-computername] s-ip cs-method cs-uri-stem
    cs-uri-query s-port cs-username c-ip ... sc-status sc-substatus sc-win32-status ..."""
    tokens = line.split(" ")
    method_at = next((i for i, t in enumerate(tokens[2:7], 2) if t in _HTTP_METHODS), None)
    if method_at is None or len(tokens) < method_at + 9:
        return None
    tail = []
    for token in reversed(tokens):
        if not token.isdigit():
            break
        tail.append(token)
    if len(tail) < 3:
        return None
    status = int(tail[-1][:3]) if len(tail[-1]) == 3 else 0
    if not 100 <= status <= 599:
        return None
    stem, query, port, user, client = tokens[method_at + 1 : method_at + 6]
    data: dict[str, Any] = {"method": tokens[method_at], "status": status, "format": "iis"}
    data["path"] = (stem if query == "-" else f"{stem}?{query}")[:2048]
    data["destination_ip"] = canonical_ip(tokens[method_at - 1])
    if port.isdigit() and len(port) <= 5 and int(port) <= 65535:
        data["destination_port"] = int(port)
    parsed = ("web.access", access_severity(status), canonical_ip(client), username_of(user), data)
    return parsed, iso_timestamp(f"{tokens[0]}T{tokens[1]}")


def _client_ip(text: str) -> str | None:
    """Apache writes the client as ip or ip:port (IPv6 too, unbracketed)."""
    ip = canonical_ip(text)
    if ip is None and ":" in text:
        ip = canonical_ip(text.rpartition(":")[0].strip("[]"))
    return ip


def parse_apache_error(line: str) -> Timed | None:
    match = _APACHE_ERROR.match(line)
    if match is None:
        return None
    stamp, module, level, pid, client, message = match.groups()
    data: dict[str, Any] = {"level": level, "message": message[:1024]}
    if module:
        data["module"] = module[:64]
    if pid:
        data["pid"] = int(pid[:10])
    parsed = ("web.error", _ERROR_SEVERITY.get(level, "info"), _client_ip(client or ""), None, data)
    return parsed, ctime_timestamp(stamp) if stamp else None


def parse_nginx_error(line: str) -> Timed | None:
    match = _NGINX_ERROR.match(line)
    if match is None:
        return None
    stamp, level, pid, message = match.groups()
    fields = dict(_NGINX_FIELD.findall(message))
    data: dict[str, Any] = {"level": level, "pid": int(pid[:10]), "message": message[:1024]}
    if fields.get("request"):
        data["request"] = fields["request"][:2048]
    if fields.get("server"):
        data["server"] = fields["server"][:255]
    parsed = (
        "web.error",
        _ERROR_SEVERITY.get(level, "info"),
        canonical_ip(fields.get("client")),
        None,
        data,
    )
    return parsed, iso_timestamp(stamp.replace("/", "-"))


def parse_web_message(message: str) -> Parsed | None:
    """An access or error line that came inside a syslog envelope (nginx: / apache:)."""
    timed = parse_access(message) or parse_apache_error(message) or parse_nginx_error(message)
    return None if timed is None else timed[0]
