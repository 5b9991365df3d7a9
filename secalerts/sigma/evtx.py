"""Windows events as EVTX-shaped JSON (evtx_dump, SigmaHQ's regression samples) -> events.

Pure: no Django. The event shape Sigma rules of a Windows logsource read: event type
`win.<service>.<EventID>` (the Sigma service of the channel, `win.sysmon.1`,
`win.security.4688`), the EventData (or UserData) fields under `data` by their own
names (less spaces), with `EventID`, `Channel`, `Computer` and `Provider_Name` beside them; `source`
is the computer, `timestamp` the SystemTime.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from secalerts.sigma.logsources import WINDOWS_CHANNELS

_SERVICE_OF_CHANNEL = {channel.casefold(): service for service, channel in WINDOWS_CHANNELS.items()}
_NOT_TYPE_WORD = re.compile(r"[^a-z0-9_-]+")


def service_of(channel: str) -> str:
    """The Sigma service name of a channel; other channels get a slug of their name."""
    known = _SERVICE_OF_CHANNEL.get(channel.casefold())
    if known is not None:
        return known
    name = channel.casefold().removeprefix("microsoft-windows-")
    return _NOT_TYPE_WORD.sub("-", name).strip("-") or "unknown"


def _text(value: Any) -> Any:
    """evtx_dump writes an element with attributes as {"#text": ..., "#attributes": ...}."""
    if isinstance(value, dict) and "#text" in value:
        return value["#text"]
    return value


def evtx_to_event(record: dict[str, Any]) -> dict[str, Any]:
    """One {"Event": {"System": ..., "EventData": ...}} record -> one event dict."""
    event = record.get("Event", record)
    system = event.get("System") or {}
    event_id = _text(system.get("EventID"))
    channel = str(system.get("Channel") or "")
    provider = (system.get("Provider") or {}).get("#attributes") or {}
    data: dict[str, Any] = {}
    payload = event.get("EventData") or event.get("UserData") or {}
    if isinstance(payload, dict):
        if "EventData" not in event and len(payload) == 1:
            (payload,) = payload.values()  # UserData wraps its fields in one element
        if isinstance(payload, dict):
            # Sigma names fields without the spaces some providers put in them (Defender's
            # "Threat Name" is ThreatName).
            fields = {k.replace(" ", ""): _text(v) for k, v in payload.items()}
            data.update({k: v for k, v in fields.items() if k != "#attributes"})
    data.update(
        {
            "EventID": event_id,
            "Channel": channel,
            "Computer": system.get("Computer"),
            "Provider_Name": provider.get("Name"),
        }
    )
    created = (system.get("TimeCreated") or {}).get("#attributes") or {}
    result: dict[str, Any] = {
        "event_type": f"win.{service_of(channel)}.{event_id}",
        "severity": "info",
        "data": data,
    }
    if system.get("Computer"):
        result["source"] = str(system["Computer"])
    if created.get("SystemTime"):
        result["timestamp"] = created["SystemTime"]
    return result


def read_records(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a file holding one, several concatenated, or an array."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        value, position = decoder.raw_decode(text, position)
        if isinstance(value, list):
            yield from value
        else:
            yield value
