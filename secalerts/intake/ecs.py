"""Elastic Common Schema documents -> event dicts (the shape POST /api/events/ takes).

Pure: no Django. The ECS fields the event has a place for map onto it; every other field
stays in `data` under its own name, nested or dotted as the shipper sent it, so a rule
reads `data.process.name` from Filebeat and Elastic Agent documents alike. A document
nothing classifies is `log.line`, as an unknown log line is.
"""

import re
from typing import Any

from secalerts.logparsers import UNPARSED

# ECS field (as a path) -> event field.
MAPPED = {
    ("@timestamp",): "timestamp",
    ("host", "name"): "source",
    ("source", "ip"): "source_ip",
    ("destination", "ip"): "destination_ip",
    ("destination", "port"): "destination_port",
    ("user", "name"): "username",
    ("message",): "message",
}
_TYPE_WORD = re.compile(r"[^a-z0-9_-]+")
# log.level names (syslog's and the common loggers') -> severity.
_LEVELS = {
    "emergency": "critical", "emerg": "critical", "alert": "critical", "critical": "critical",
    "crit": "critical", "fatal": "critical", "error": "high", "err": "high",
    "warning": "medium", "warn": "medium", "notice": "low", "info": "info",
    "informational": "info", "debug": "info", "trace": "info",
}  # fmt: skip


def ecs_to_event(doc: dict[str, Any]) -> dict[str, Any]:
    """One ECS document -> one event dict; never raises on a JSON object."""
    event: dict[str, Any] = {"data": _without(doc, MAPPED)}
    for path, name in MAPPED.items():
        value = _get(doc, path)
        if value is not None:
            event[name] = value
    if not isinstance(event.get("source"), str) or not event.get("source"):
        hostname = _get(doc, ("host", "hostname")) or _get(doc, ("agent", "name"))
        if isinstance(hostname, str) and hostname:
            event["source"] = hostname
        else:
            event.pop("source", None)  # the key's default source, or a clear 400
    event["event_type"] = event_type(doc)
    severity = severity_of(doc)
    if severity is not None:
        event["severity"] = severity
    return event


def event_type(doc: dict[str, Any]) -> str:
    """`event.action` as a type (`user-login` -> `user-login`), else `event.category`
    and `event.type` (`authentication.start`), else UNPARSED."""
    action = _get(doc, ("event", "action"))
    if isinstance(action, str) and (found := _type_words([action])):
        return found
    category = _first(_get(doc, ("event", "category")))
    kind = _first(_get(doc, ("event", "type")))
    if isinstance(category, str) and (found := _type_words([category, kind])):
        return found
    return UNPARSED


def severity_of(doc: dict[str, Any]) -> str | None:
    """`event.severity` on Elastic Security's 0-100 scale, else `log.level`'s name."""
    number = _get(doc, ("event", "severity"))
    if isinstance(number, int | float) and not isinstance(number, bool):
        if number >= 74:
            return "critical"
        if number >= 48:
            return "high"
        if number >= 22:
            return "medium"
        return "low" if number > 0 else "info"
    level = _get(doc, ("log", "level"))
    return _LEVELS.get(level.strip().lower()) if isinstance(level, str) else None


def _type_words(parts: list[Any]) -> str:
    words = []
    for part in parts:
        if isinstance(part, str):
            word = _TYPE_WORD.sub("_", part.strip().lower()).strip("_")
            if word:
                words.append(word[:48])
    return ".".join(words)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    """A field by its path, nested (`{"host": {"name": ...}}`) or dotted (`"host.name"`)."""
    dotted = ".".join(path)
    if dotted in doc:
        return doc[dotted]
    value: Any = doc
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _without(doc: dict[str, Any], mapped: dict[tuple[str, ...], str]) -> dict[str, Any]:
    """The document less the fields the event holds, with no empty objects left behind."""
    dotted = {".".join(path) for path in mapped}
    nested = {path for path in mapped if len(path) > 1}
    rest: dict[str, Any] = {}
    for key, value in doc.items():
        if key in dotted:
            continue
        children = {path[1:] for path in nested if path[0] == key}
        if children and isinstance(value, dict):
            value = _without(value, dict.fromkeys(children, ""))
            if not value:
                continue
        rest[key] = value
    return rest
