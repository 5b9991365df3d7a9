"""POST /api/events/ through `security_backend.asgi.application`, as a server would call it."""

import json
from collections.abc import Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from security_backend.asgi import application


def post_events(
    body: object,
    authorization: str | None,
    content_type: str = "application/json",
    *,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, JSON body) of the direct ingest path. Its writes run in a worker thread
    and commit, so callers need `django_db(transaction=True)`."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    if authorization is not None:
        sent.append((b"authorization", authorization.encode()))
    sent += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]

    async def send() -> Mapping[str, Any]:
        communicator = HttpCommunicator(application, "POST", "/api/events/", raw, sent)
        return await communicator.get_response(timeout=30)

    response = async_to_sync(send)()
    return response["status"], json.loads(response["body"])
