"""Concurrent POST /api/events/ requests of one process, written in one transaction.

The fixed costs of an ingest (transaction and commit, rule set check, group locks,
alert look-ups, one push per alert) outweigh the work per event: a lone event costs
0.9 ms, an event in a batch of 1000 0.07 ms. So while one group of requests is being
written, the requests that arrive wait, and the next group takes all of them. A lone
request is written at once, as a group of one, and a large batch is written alone.

Under load one more thing matters: when a group is answered, its clients send again
within a millisecond or so, just after the writer has taken the next group. Left
alone, the clients split into two groups that take turns, each paying the fixed
costs. So after a group of several requests, the writer waits for as many requests
as that group and its waiting successors held, for no longer than the last write
took (what writing the latecomers separately would cost them). Like PostgreSQL's
commit_delay, which applies only when other transactions are active, it never
delays a request that comes alone.

On PostgreSQL a group that is full on its own (a large batch) does not wait while
another group is being written: it goes to a second writer, on its own connection.
One writer alternates between computing and waiting on the database, which
meanwhile computes too, so the two took turns (server 31 ms, database 32 ms, 62 ms
a batch of 1000); written side by side they overlap, and the advisory group locks
keep them as correct as two worker processes. SQLite admits one writer at a time.

Each request keeps its own answer: its own authentication, validation errors,
`accepted`/`duplicates` and the alerts its own events raised or updated. When a
group's transaction fails for any reason but an unavailable database, each request
of it is written again on its own, so one bad request cannot fail the others.
"""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from rest_framework.exceptions import PermissionDenied

from secalerts.accounts.identity import Identity, identify_all
from secalerts.accounts.roles import may_ingest
from secalerts.core.api import SERVER_ERROR, error_answer
from secalerts.ingest.endpoint import Answer, read_request
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
    # About the events the body holds when it is a line each (NDJSON, syslog text):
    # counted once, as the committer weighs a request at arrival and again in its group.
    lines: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", self.body.count(b"\n") + 1)


@dataclass(slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    user_id: int | None = None


class GroupCommitter:
    """Queues requests on the event loop; one writer thread writes them group by group,
    and on PostgreSQL a spare writer takes a full group while the first one writes."""

    def __init__(self) -> None:
        self._write = sync_to_async(write_group)
        self._spare_writers = settings.EVENTS_SPARE_WRITERS
        if self._spare_writers:
            self._write_spare = sync_to_async(
                write_group, thread_sensitive=False, executor=_spare_threads(self._spare_writers)
            )
        self._writing = False  # the first writer is writing a group
        self._spare_writes: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs
        self._waiting: list[tuple[Request, asyncio.Future[Outcome]]] = []
        self._waiting_bytes = 0
        self._waiting_lines = 0
        self._writer: asyncio.Task[None] | None = None
        self._expected = 1  # requests the next group may expect (see _gather)
        self._last_write = 0.0  # seconds the last group took
        self._arrived = asyncio.Event()

    async def submit(self, request: Request) -> Outcome:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        self._waiting_bytes += len(request.body)
        self._waiting_lines += request.lines
        self._arrived.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_waiting())
        elif self._writing and len(self._spare_writes) < self._spare_writers and self._group_full():
            task = asyncio.create_task(self._settle(self._take_group(), self._write_spare))
            self._spare_writes.add(task)
            task.add_done_callback(self._spare_writes.discard)
        return await future

    async def _settle(
        self,
        group: list[tuple[Request, asyncio.Future[Outcome]]],
        write: Callable[[list[Request]], Awaitable[list[Outcome]]],
    ) -> None:
        """Write a group and answer its requests."""
        try:
            outcomes = await write([request for request, _ in group])
        except BaseException as error:  # write_group answers everything; a bug
            for _, future in group:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():  # done: the client went away meanwhile
                future.set_result(outcome)

    async def _write_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._gather()
                if not self._waiting:
                    break
                group = self._take_group()
                started = loop.time()
                self._writing = True
                try:
                    await self._settle(group, self._write)
                finally:
                    self._writing = False
                self._last_write = loop.time() - started
                self._expect_after(group)
        finally:
            self._writer = None

    def _expect_after(self, group: list[tuple[Request, asyncio.Future[Outcome]]]) -> None:
        """After a group of several, expect its clients back beside those waiting."""
        self._expected = len(group) + len(self._waiting) if len(group) > 1 else 1

    def _group_full(self) -> bool:
        """Whether the waiting requests fill a group already: waiting longer gains nothing.
        Under a backlog, groups grow to full ones this way, and then nobody waits."""
        limit = settings.EVENTS_MAX_BATCH
        return (
            self._waiting_bytes >= GROUP_MAX_BYTES
            or self._waiting_lines >= limit
            or len(self._waiting) >= limit
        )

    async def _gather(self) -> None:
        """Wait until the expected requests are waiting, or for as long as the last write."""
        expected, self._expected = self._expected, 1  # once: then whoever came is the group
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._last_write
        while len(self._waiting) < expected and not self._group_full():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return

    def _take_group(self) -> list[tuple[Request, asyncio.Future[Outcome]]]:
        limit = settings.EVENTS_MAX_BATCH
        size, lines, count = len(self._waiting[0][0].body), self._waiting[0][0].lines, 1
        while count < len(self._waiting):
            request = self._waiting[count][0]
            size, lines = size + len(request.body), lines + request.lines
            if size > GROUP_MAX_BYTES or lines > limit or count >= limit:
                break
            count += 1
        group, self._waiting = self._waiting[:count], self._waiting[count:]
        self._waiting_bytes -= sum(len(request.body) for request, _ in group)
        self._waiting_lines -= sum(request.lines for request, _ in group)
        return group


@functools.cache
def _spare_threads(count: int) -> ThreadPoolExecutor:
    """The process's spare writer threads, each keeping its own database connection."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="ingest-writer")


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
    parsed: list[tuple[int, list[dict[str, Any]], Answer]] = []
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
            continue
        parsed.append((index, events, answer))
    for chunk in _chunks(parsed, settings.EVENTS_MAX_BATCH):
        outcomes.update(_ingest(chunk))
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
