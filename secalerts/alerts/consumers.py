"""The alert stream: pushes `alert.created` / `alert.updated`, filtered by the client's
`severity_min`; answers `ping`; reports malformed messages without dropping the client."""

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from secalerts.alerts.broadcast import broadcaster
from secalerts.events.models import SEVERITY_RANK

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class AlertStreamConsumer(AsyncJsonWebsocketConsumer):
    severity_min = 0

    async def connect(self) -> None:
        # Accept first: a close before accept reaches clients as a bare HTTP 403.
        await self.accept()
        if not self.scope["user"].is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
        elif not self.scope["roles"]:
            await self.close(code=CLOSE_FORBIDDEN)
        else:
            await broadcaster().add(self)
            self.joined = True

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            await broadcaster().discard(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data if text_data is not None else bytes_data or b"")
        except (ValueError, UnicodeDecodeError):
            await self.error("Messages must be JSON objects.")
            return
        await self.receive_json(message)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            level = content.get("severity_min", "info")
            if not isinstance(level, str) or level not in SEVERITY_RANK:
                await self.error(f"severity_min must be one of {', '.join(SEVERITY_RANK)}.")
                return
            self.severity_min = SEVERITY_RANK[level]
            await self.send_json({"type": "subscribed", "severity_min": level})
        else:
            await self.error('Unknown message: send {"type": "ping"} or {"type": "subscribe"}.')

    async def error(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})

    async def push(self, message: dict[str, Any]) -> None:
        """An `alert.created` / `alert.updated` push, relayed by this process's broadcaster."""
        if SEVERITY_RANK.get(message["severity"], 0) >= self.severity_min:
            await self.send(text_data=message["text"])
