"""A group of HTTP ingest requests written together: each authenticated, read and
answered on its own, their events ingested in as few transactions as the batch limit
allows. `committer()` groups the requests of one process (`ingest.group_commit`).

Each request keeps its own answer: its own authentication, validation errors,
`accepted`/`duplicates` and the alerts its own events raised or updated. When a
group's transaction fails for any reason but an unavailable database, each request
of it is written again on its own, so one bad request cannot fail the others; an
unavailable database fails the whole group with 503.
"""

import functools
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from rest_framework.exceptions import PermissionDenied

from secalerts.accounts.identity import Identity, identify_all
from secalerts.accounts.roles import may_ingest
from secalerts.core import metrics
from secalerts.core.api import SERVER_ERROR, error_answer
from secalerts.ingest.endpoint import Answer, read_request
from secalerts.ingest.group_commit import GroupCommitter
from secalerts.ingest.service import ingest_events

# A request this large gains nothing from company; it starts a group and ends it. So
# does one of EVENTS_MAX_BATCH lines: 1000 syslog lines are a full batch in 100 KiB.
GROUP_MAX_BYTES = 256 * 1024

logger = logging.getLogger("secalerts.request")


# What an endpoint makes of a request's body, content type and content encoding sent by
# an identity: its validated events, and how to answer once they are ingested. Raises
# DomainError subclasses (4xx). Endpoints above events (intake) provide their own.
Reader = Callable[[bytes, str, bytes | None, Identity], tuple[list[dict[str, Any]], Answer]]


@dataclass(frozen=True, slots=True)
class Request:
    headers: dict[bytes, bytes]  # lower-case names
    body: bytes
    read: Reader = read_request
    path: str = metrics.HTTP  # the ingest path its events are counted under


@dataclass(slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    user_id: int | None = None


def committer() -> GroupCommitter[Request, Outcome]:
    """Groups the requests of one event loop; one thread writes them (`write_group`).

    With EVENTS_SPARE_WRITERS (PostgreSQL), spare threads write full groups beside it.
    That pays with one Daphne process: while it computes, the database has the other
    cores to itself. With a worker per core they are busy already (`serve --workers N`
    turns spares off). Figures: docs/performance.md."""
    max_events = settings.EVENTS_MAX_BATCH
    spares = settings.EVENTS_SPARE_WRITERS
    return GroupCommitter(
        sync_to_async(write_group),
        weigh=weigh,
        limits=(max_events, GROUP_MAX_BYTES, max_events),
        # The advisory group locks keep writers side by side as correct as two processes.
        spare_write=(
            sync_to_async(write_group, thread_sensitive=False, executor=_spare_threads(spares))
            if spares
            else None
        ),
        spare_writers=spares,
    )


@functools.cache
def _spare_threads(count: int) -> ThreadPoolExecutor:
    """The process's spare writer threads, each keeping its own database connection."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="ingest-writer")


def weigh(request: Request) -> tuple[int, int, int]:
    """A request counts as one, as its bytes, and as its lines: the events its body
    holds when it is a line each (NDJSON, syslog text)."""
    return 1, len(request.body), request.body.count(b"\n") + 1


def write_group(requests: Sequence[Request]) -> list[Outcome]:
    """Authenticate, validate and ingest requests together; one outcome per request."""
    close_old_connections()  # what Django's request_started signal does, for CONN_MAX_AGE
    try:
        return _write_group(requests)
    except Exception as error:  # a database outage (503 for all) or a bug (500, logged)
        return [failure_outcome(error) for _ in requests]
    finally:
        close_old_connections()


def _write_group(requests: Sequence[Request]) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    user_ids: dict[int, int] = {}
    identities = identify_all(
        [
            (request.headers.get(b"authorization"), request.headers.get(b"x-api-key"))
            for request in requests
        ]
    )
    parsed: list[Parsed] = []
    # Events refused by path (the accepted and duplicates are counted as answered).
    refused: Counter[str] = Counter()
    for index, (request, who) in enumerate(zip(requests, identities, strict=True)):
        if isinstance(who, Exception):
            outcomes[index] = failure_outcome(who)
            continue
        if who.user_id is not None:
            user_ids[index] = who.user_id
        if not may_ingest(who):
            outcomes[index] = failure_outcome(PermissionDenied())
            continue
        content_type = request.headers.get(b"content-type", b"").decode("latin-1")
        try:
            events, answer = request.read(
                request.body, content_type, request.headers.get(b"content-encoding"), who
            )
        except Exception as error:  # DomainError: 4xx; anything else is this request's 500
            outcomes[index] = failure_outcome(error)
            refused[request.path] += metrics.refused_events(error)
            continue
        parsed.append((index, events, answer))
    for chunk in _chunks(parsed, settings.EVENTS_MAX_BATCH):
        outcomes.update(_ingest(chunk))
    for index, events, _ in parsed:
        if outcomes[index].status >= 400:  # refused alone (an id conflict, say)
            refused[requests[index].path] += len(events)
    for path, count in refused.items():
        metrics.count_events(path, rejected=count)
    for index, user_id in user_ids.items():
        outcomes[index].user_id = user_id
    return [outcomes[index] for index in range(len(requests))]


Parsed = tuple[int, list[dict[str, Any]], Answer]  # request index, events, its answer


def _chunks(parsed: list[Parsed], max_events: int) -> list[list[Parsed]]:
    """Consecutive requests, at most max_events events a transaction (one request at least)."""
    chunks: list[list[Parsed]] = []
    size = max_events
    for item in parsed:
        if size + len(item[1]) > max_events:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item[1])
    return chunks


def _ingest(chunk: list[Parsed]) -> dict[int, Outcome]:
    try:
        result = ingest_events(events=[event for _, events, _ in chunk for event in events])
    except (OperationalError, InterfaceError):
        raise  # the whole group gets 503 (write_group)
    except Exception as error:
        if len(chunk) > 1:
            outcomes: dict[int, Outcome] = {}
            for item in chunk:
                outcomes.update(_ingest([item]))
            return outcomes
        return {chunk[0][0]: failure_outcome(error)}
    claimed: set[Any] = set()
    return {index: Outcome(*answer(result, claimed)) for index, _, answer in chunk}


def failure_outcome(error: Exception) -> Outcome:
    """The answer to an error, as every other path renders it (`core.api.error_answer`)."""
    found = error_answer(error)
    if found is None:
        logger.error("unexpected error during ingest", exc_info=error)
        return Outcome(500, dict(SERVER_ERROR))
    headers = [(name.lower().encode(), value.encode()) for name, value in found.headers.items()]
    return Outcome(found.status, found.body, headers)
