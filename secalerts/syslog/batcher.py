"""Syslog lines -> batches -> the ingest service, one batch at a time in a worker thread.

A batch is sealed at `max_lines` lines or `max_delay_seconds` after its first line. At
most `max_pending_batches` wait (the one being stored included); past that the queue
is full and senders wait (TCP) or lose the datagram (UDP; counted).
"""

import asyncio
import collections
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone

from secalerts.core import metrics
from secalerts.events.validation import InvalidEvents, validate_dict
from secalerts.ingest.service import ingest_events
from secalerts.logparsers import UNPARSED, parse_line

logger = logging.getLogger("secalerts.syslog")

MAX_LINES = 1000
MAX_DELAY_SECONDS = 0.2
MAX_PENDING_BATCHES = 4
# Backoff between attempts to store a batch while the database is unavailable.
RETRY_SECONDS = (0.1, 5.0)
# Worth waiting for: the database may come back. Anything else would fail again.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
MAX_MESSAGE = 10_000


class ParseLine(Protocol):
    def __call__(
        self, line: str, *, now: datetime, default_host: str | None = None
    ) -> dict[str, Any]: ...


Store = Callable[[list[dict[str, Any]]], int]  # events -> how many were stored


class Handle(Protocol):
    def cancel(self) -> None: ...


CallLater = Callable[[float, Callable[[], None]], Handle]


@dataclass(frozen=True, slots=True)
class Line:
    sender: str  # the peer's IP address
    text: str


@dataclass(slots=True)
class Counters:
    """Since the listener started; logged periodically."""

    received: int = 0  # lines from allowed senders, taken into a batch
    ingested: int = 0  # events stored
    unparsed: int = 0  # stored as log.line: no parser knew the line
    truncated: int = 0  # lines cut at the length limit (stored, shortened)
    dropped_denied: int = 0  # UDP datagrams from senders outside SYSLOG_ALLOWED_CIDRS
    dropped_full: int = 0  # UDP datagrams that arrived while the queue was full
    refused_connections: int = 0  # TCP connections from senders outside the CIDRs
    invalid: int = 0  # lines that gave no valid event even as log.line (dropped)
    failed: int = 0  # events the database refused for good (dropped, logged)
    database_errors: int = 0  # attempts to store a batch that met an unavailable database
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Prepared:
    events: list[dict[str, Any]]
    unparsed: int
    invalid: int


def prepare_events(
    lines: Sequence[Line], *, parse: ParseLine = parse_line, now: datetime | None = None
) -> Prepared:
    """Parse and validate as POST /api/events/ validates each item. A line whose event is
    invalid (or whose parser raised) is kept as an unparsed log.line; none stops the rest."""
    now = now or timezone.now()
    events, unparsed, invalid = [], 0, 0
    for line in lines:
        event: dict[str, Any] | None
        try:
            event = validate_dict(parse(line.text, now=now, default_host=line.sender), now=now)
        except InvalidEvents as error:
            event = _as_unparsed(line, now, {"invalid": error.detail})
        except Exception as error:
            logger.warning("syslog parser raised on a line", exc_info=True)
            event = _as_unparsed(line, now, {"parse_error": type(error).__name__})
        if event is None:
            invalid += 1
            continue
        if event["event_type"] == UNPARSED:
            unparsed += 1
        event["received_by"] = {"kind": "syslog", "name": line.sender}
        events.append(event)
    return Prepared(events, unparsed, invalid)


def _as_unparsed(line: Line, now: datetime, data: dict[str, Any]) -> dict[str, Any] | None:
    text = line.text.replace("\x00", "\ufffd")[:MAX_MESSAGE]
    raw = {"event_type": UNPARSED, "source": line.sender, "message": text, "data": data}
    try:
        return validate_dict(raw, now=now)
    except InvalidEvents:
        logger.warning("syslog line dropped: no valid event", extra={"sender": line.sender})
        return None


def store_events(events: list[dict[str, Any]]) -> int:
    # As at the start of a request: a connection the database dropped is replaced.
    close_old_connections()
    return len(ingest_events(events=events).stored_ids)


@dataclass(slots=True)
class _Sealed:
    lines: list[Line]
    prepared: "asyncio.Future[Prepared] | None" = None


class Batcher:
    def __init__(
        self,
        *,
        parse: ParseLine = parse_line,
        store: Store = store_events,
        counters: Counters | None = None,
        max_lines: int = MAX_LINES,
        max_delay_seconds: float = MAX_DELAY_SECONDS,
        max_pending_batches: int = MAX_PENDING_BATCHES,
        retry_seconds: tuple[float, float] = RETRY_SECONDS,
        call_later: CallLater | None = None,
    ) -> None:
        self.counters = counters or Counters()
        self._parse = parse
        self._store = store
        self._max_lines = max_lines
        self._max_delay_seconds = max_delay_seconds
        self._max_pending = max_pending_batches
        self._retry_seconds = retry_seconds
        self._call_later = call_later
        self._current: list[Line] = []
        self._timer: Handle | None = None
        self._pending: collections.deque[_Sealed] = collections.deque()
        self._work = asyncio.Event()
        self._room = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        # One thread, so one database connection and one batch at a time.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syslog-ingest")
        # Parsing the next batch while one is stored: the database work waits on I/O.
        self._parse_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syslog-parse")

    @property
    def full(self) -> bool:
        return len(self._pending) >= self._max_pending

    def add(self, lines: Sequence[Line]) -> None:
        """Always takes the lines: TCP callers wait_for_room() first, UDP callers drop
        when full. So the queue overshoots its bound by at most one read per sender."""
        if not lines:
            return
        self.counters.received += len(lines)
        if not self._current:
            call_later = self._call_later or asyncio.get_running_loop().call_later
            self._timer = call_later(self._max_delay_seconds, self._seal)
        self._current.extend(lines)
        while len(self._current) >= self._max_lines:
            batch, self._current = (
                self._current[: self._max_lines],
                self._current[self._max_lines :],
            )
            self._push(batch)
        if not self._current and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def wait_for_room(self) -> None:
        while self.full:
            self._room.clear()
            await self._room.wait()

    async def drain(self) -> None:
        """Seal the open batch and wait until every batch is stored (or given up)."""
        self._seal()
        await self._drained.wait()

    async def run(self) -> None:
        """Store sealed batches one at a time, until cancelled."""
        while True:
            if not self._pending:
                self._work.clear()
                await self._work.wait()
                continue
            prepared = await self._prepare(self._pending[0])
            if len(self._pending) > 1:
                self._prepare(self._pending[1])
            await self._process(prepared)
            self._pending.popleft()
            self._room.set()
            if not self._pending:
                self._drained.set()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._parse_executor.shutdown(wait=False, cancel_futures=True)

    def _seal(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._current:
            batch, self._current = self._current, []
            self._push(batch)

    def _push(self, batch: list[Line]) -> None:
        self._pending.append(_Sealed(batch))
        self._drained.clear()
        self._work.set()

    def _prepare(self, batch: "_Sealed") -> "asyncio.Future[Prepared]":
        """The batch parsed and validated: started now, or earlier while another was stored."""
        if batch.prepared is None:
            prepare = functools.partial(prepare_events, batch.lines, parse=self._parse)
            loop = asyncio.get_running_loop()
            batch.prepared = loop.run_in_executor(self._parse_executor, prepare)
        return batch.prepared

    async def _process(self, prepared: Prepared) -> None:
        loop = asyncio.get_running_loop()
        self.counters.unparsed += prepared.unparsed
        self.counters.invalid += prepared.invalid
        stored, failed = 0, 0
        delay, max_delay = self._retry_seconds
        while prepared.events:
            try:
                stored = await loop.run_in_executor(self._executor, self._store, prepared.events)
                break
            except DATABASE_UNAVAILABLE:
                # Kept, not dropped: the queue fills meanwhile and holds the senders back.
                self.counters.database_errors += 1
                logger.warning(
                    "syslog batch not stored: database unavailable; retrying",
                    exc_info=True,
                    extra={"retry_seconds": delay, "events": len(prepared.events)},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
            except Exception:
                # Retrying the same batch would fail again and hold every sender back:
                # store its events one by one, so only those that fail are lost.
                logger.exception("syslog batch not stored; storing its events one by one")
                stored, failed = await loop.run_in_executor(
                    self._executor, self._store_each, prepared.events
                )
                break
        self.counters.ingested += stored
        self.counters.failed += failed
        self.counters.batches += 1
        metrics.count_events(
            metrics.SYSLOG,
            accepted=stored,
            duplicate=len(prepared.events) - stored - failed,
            rejected=prepared.invalid + failed,
        )

    def _store_each(self, events: list[dict[str, Any]]) -> tuple[int, int]:
        stored, failed = 0, 0
        for event in events:
            try:
                stored += self._store([event])
            except Exception:
                failed += 1
                logger.warning(
                    "syslog event dropped: the database refused it",
                    exc_info=True,
                    extra={"event_type": event["event_type"], "sender": event["received_by"]},
                )
        return stored, failed
