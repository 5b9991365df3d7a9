"""Items submitted concurrently on one event loop, written group by group: queueing and
grouping only. What an item is and how a group is written belong to the caller
(`ingest.writer` for HTTP ingest requests).

A write has fixed costs (a transaction and its commit, look-ups shared by the group)
that outweigh the work per item. So while one group is being written, the items that
arrive wait, and the next group takes all of them. A lone item is written at once, as
a group of one, and an item that fills a group alone is written alone.

Under load one more thing matters: when a group is answered, its clients send again
soon after, just after the writer has taken the next group. Left alone, the clients
split into two groups that take turns, each paying the fixed costs. So after a group
of several items, the writer waits for as many items as that group and its waiting
successors held, for no longer than the last write took (what writing the latecomers
separately would cost them). Like PostgreSQL's commit_delay, which applies only when
other transactions are active, it never delays an item that comes alone. When the
items waiting fill a group already, waiting longer gains nothing: under a backlog,
groups grow to full ones this way, and then nobody waits.

Optionally, a group that is full while another is being written does not wait: it goes
to a spare writer (`spare_write`, at most `spare_writers` at once). One writer
alternates between computing and waiting on the database, which meanwhile computes
too; two writing side by side overlap. Whether that pays depends on the deployment
(`ingest.writer`, docs/performance.md).
"""

import asyncio
import contextlib
import operator
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# A group of items -> one result per item, in order.
type Write[T, R] = Callable[[list[T]], Awaitable[list[R]]]


class Clock(Protocol):
    """Time as the committer reads it and waits on it (seconds); tests drive a fake one."""

    def now(self) -> float: ...

    async def wait(self, event: asyncio.Event, deadline: float) -> None:
        """Return once the event is set or `now()` has reached the deadline."""
        ...


class LoopClock:
    """The running event loop's clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def wait(self, event: asyncio.Event, deadline: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await event.wait()


@dataclass(slots=True)  # not frozen: made once per item, and frozen ones are slower to make
class _Waiting[T, R]:
    item: T
    weights: tuple[int, ...]  # weighed once, on arrival
    result: asyncio.Future[R]


class GroupCommitter[T, R]:
    """Queues items on the event loop; one writer writes them group by group, and each
    `submit` returns its own item's result.

    `weigh` gives an item's weights (for requests: 1, its bytes, its lines); a group is
    full once a total reaches its entry in `limits`, and exceeds a limit only when its
    first item alone does. An exception from `write` is raised to each item of the group.
    """

    def __init__(
        self,
        write: Write[T, R],
        *,
        weigh: Callable[[T], Sequence[int]],
        limits: Sequence[int],
        clock: Clock | None = None,
        spare_write: Write[T, R] | None = None,
        spare_writers: int = 0,
    ) -> None:
        self._write = write
        self._spare_write = spare_write
        self._spare_writers = spare_writers if spare_write is not None else 0
        self._spare_writes: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs
        self._writing = False  # the writer is writing a group
        self._weigh = weigh
        self._limits = tuple(limits)
        self._clock = clock or LoopClock()
        self._waiting: list[_Waiting[T, R]] = []
        self._waiting_totals = [0] * len(self._limits)
        self._writer: asyncio.Task[None] | None = None
        self._expected = 1  # items the next group may expect (see _gather)
        self._last_write = 0.0  # seconds the last group took
        self._arrived = asyncio.Event()

    async def submit(self, item: T) -> R:
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        waiting = _Waiting(item, tuple(self._weigh(item)), result)
        self._waiting.append(waiting)
        self._waiting_totals = list(map(operator.add, self._waiting_totals, waiting.weights))
        self._arrived.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_waiting())
        elif self._spare_write is not None and self._spare_free() and self._group_full():
            self._write_beside(self._take_group(), self._spare_write)
        return await result

    async def _write_waiting(self) -> None:
        try:
            while True:
                await self._gather()
                if not self._waiting:
                    break
                group = self._take_group()
                started = self._clock.now()
                self._writing = True
                try:
                    await self._settle(group, self._write)
                finally:
                    self._writing = False
                self._last_write = self._clock.now() - started
                self._expect_after(group)
        finally:
            self._writer = None

    async def _settle(self, group: list[_Waiting[T, R]], write: Write[T, R]) -> None:
        """Write a group and answer its items."""
        try:
            results = await write([waiting.item for waiting in group])
        except BaseException as error:
            for waiting in group:
                if not waiting.result.done():
                    waiting.result.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for waiting, result in zip(group, results, strict=True):
            if not waiting.result.done():  # done: the client went away meanwhile
                waiting.result.set_result(result)

    def _spare_free(self) -> bool:
        """Whether a full group may go to a spare writer: the writer is busy, a spare is not."""
        return self._writing and len(self._spare_writes) < self._spare_writers

    def _write_beside(self, group: list[_Waiting[T, R]], write: Write[T, R]) -> None:
        task = asyncio.create_task(self._settle(group, write))
        self._spare_writes.add(task)
        task.add_done_callback(self._spare_writes.discard)

    def _expect_after(self, group: list[_Waiting[T, R]]) -> None:
        """After a group of several, expect its clients back beside those waiting."""
        self._expected = len(group) + len(self._waiting) if len(group) > 1 else 1

    def _group_full(self) -> bool:
        """Whether the waiting items fill a group already: waiting longer gains nothing."""
        return any(map(operator.ge, self._waiting_totals, self._limits))

    async def _gather(self) -> None:
        """Wait until the expected items are waiting, or for as long as the last write."""
        expected, self._expected = self._expected, 1  # once: then whoever came is the group
        deadline = self._clock.now() + self._last_write
        while len(self._waiting) < expected and not self._group_full():
            if self._clock.now() >= deadline:
                return
            self._arrived.clear()
            await self._clock.wait(self._arrived, deadline)

    def _take_group(self) -> list[_Waiting[T, R]]:
        waiting, limits = self._waiting, self._limits
        if not any(map(operator.gt, self._waiting_totals, limits)):  # all of them fit
            self._waiting, self._waiting_totals = [], [0] * len(limits)
            return waiting
        group_totals = list(waiting[0].weights)
        count = 1
        while count < len(waiting):
            totals = list(map(operator.add, group_totals, waiting[count].weights))
            if any(map(operator.gt, totals, limits)):
                break
            group_totals = totals
            count += 1
        group, self._waiting = waiting[:count], waiting[count:]
        self._waiting_totals = list(map(operator.sub, self._waiting_totals, group_totals))
        return group
