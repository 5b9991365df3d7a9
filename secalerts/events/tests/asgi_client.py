"""POST /api/events/ through `security_backend.asgi.application`, as a server would call it."""

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from security_backend.asgi import application


def post_events(
    body: object, authorization: str, content_type: str = "application/json"
) -> tuple[int, Any]:
    """(status, JSON body) of the direct ingest path. Its writes run in a worker thread
    and commit, so callers need `django_db(transaction=True)`."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = [
        (b"host", b"testserver"),
        (b"content-type", content_type.encode()),
        (b"authorization", authorization.encode()),
    ]

    async def send() -> dict[str, Any]:
        communicator = HttpCommunicator(application, "POST", "/api/events/", raw, headers)
        return await communicator.get_response(timeout=30)

    response = async_to_sync(send)()
    return response["status"], json.loads(response["body"])
