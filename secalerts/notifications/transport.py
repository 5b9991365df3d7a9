"""One HTTP POST to a checked address: the connection goes to the address that was
checked (addresses.resolve), so a second DNS answer cannot steer it elsewhere.
Redirects are not followed (one could point at a refused address)."""

import http.client
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from secalerts.notifications.addresses import resolve

TIMEOUT_SECONDS = 10
# Enough of a receiver's answer to show in the delivery log.
ANSWER_BYTES = 500


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """Raises RefusedAddress, or OSError / http.client.HTTPException if no answer."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    _, address = resolve(host, port)[0]
    connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    connection = connection_class(host, port, timeout=TIMEOUT_SECONDS)

    def connect_checked(
        _: tuple[str, int], timeout: float, source: tuple[str, int] | None = None
    ) -> socket.socket:
        return socket.create_connection((address, port), timeout)

    # HTTPConnection.connect dials through this hook; TLS still verifies `host`.
    connection._create_connection = connect_checked  # type: ignore[attr-defined]
    try:
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(ANSWER_BYTES).decode("utf-8", "replace")
        return Answer(status=response.status, body=text)
    finally:
        connection.close()
