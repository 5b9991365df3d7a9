"""The intake endpoints as the direct ASGI path reads them (`group_commit.Reader`s), over
the same service steps as their DRF views, so both answer alike."""

from collections.abc import Callable
from typing import Any

from secalerts.accounts.identity import Identity
from secalerts.events.endpoint import Answer
from secalerts.events.group_commit import Reader
from secalerts.intake import service


def _reader(
    events_of: Callable[[bytes, str, bytes | None, Identity], tuple[bytes, list[Any]]],
) -> Reader:
    def read(
        body: bytes, content_type: str, content_encoding: bytes | None, who: Identity
    ) -> tuple[list[dict[str, Any]], Answer]:
        plain, events = events_of(body, content_type, content_encoding, who)
        valid = service.prepare(events, body=plain, sender=who.sender(), default_source=who.source)
        return valid, lambda result, claimed: (
            201,
            service.answer(valid, result, claimed=claimed),
        )

    return read


read_syslog = _reader(
    lambda body, content_type, encoding, who: service.syslog_events(
        body, content_type, encoding, default_host=who.source
    )
)
read_ecs = _reader(
    lambda body, content_type, encoding, who: service.ecs_events(body, content_type, encoding)
)

READERS: dict[str, Reader] = {"/api/intake/syslog/": read_syslog, "/api/intake/ecs/": read_ecs}
