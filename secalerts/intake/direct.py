"""The intake endpoints as the direct ASGI path reads them (`ingest.writer.Reader`s), over
the same service steps as their DRF views, so both answer alike."""

import functools
from typing import Any
from uuid import UUID

from secalerts.accounts.identity import Identity
from secalerts.ingest.endpoint import Answer
from secalerts.ingest.service import IngestResult
from secalerts.ingest.writer import Reader
from secalerts.intake import service


def read_syslog(
    body: bytes, content_type: str, content_encoding: bytes | None, who: Identity
) -> tuple[list[dict[str, Any]], Answer]:
    plain, events = service.syslog_events(
        body, content_type, content_encoding, default_host=who.source
    )
    return _prepared(events, plain, who)


def read_ecs(
    body: bytes, content_type: str, content_encoding: bytes | None, who: Identity
) -> tuple[list[dict[str, Any]], Answer]:
    plain, events = service.ecs_events(body, content_type, content_encoding)
    return _prepared(events, plain, who)


def _prepared(
    events: list[Any], plain: bytes, who: Identity
) -> tuple[list[dict[str, Any]], Answer]:
    valid = service.prepare(events, body=plain, sender=who.sender(), default_source=who.source)
    return valid, functools.partial(_answer, valid)


def _answer(
    valid: list[dict[str, Any]], result: IngestResult, claimed: set[UUID]
) -> tuple[int, dict[str, Any]]:
    return 201, service.answer(valid, result, claimed=claimed)


READERS: dict[str, Reader] = {"/api/intake/syslog/": read_syslog, "/api/intake/ecs/": read_ecs}
