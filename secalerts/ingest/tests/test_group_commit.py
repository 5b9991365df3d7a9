"""GroupCommitter: how items are grouped, driven by a fake clock and a write the test
holds and releases. No database, no sleeping, no measured time."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from secalerts.ingest.group_commit import GroupCommitter

WAIT_SECONDS = 10  # a bound on waiting for a condition, never a measured time
WRITE_SECONDS = 0.2  # of the fake clock


class FakeClock:
    """Time that moves only when told to (`advance`); reports when the committer waits."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._alarms: list[tuple[float, asyncio.Future[None]]] = []
        self._next_wait: asyncio.Future[float] | None = None

    def now(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        for deadline, alarm in self._alarms:
            if deadline <= self.seconds and not alarm.done():
                alarm.set_result(None)

    async def wait(self, event: asyncio.Event, deadline: float) -> None:
        alarm = asyncio.get_running_loop().create_future()
        entry = (deadline, alarm)
        self._alarms.append(entry)
        if self._next_wait is not None and not self._next_wait.done():
            self._next_wait.set_result(deadline)
        arrival = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait([arrival, alarm], return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrival.cancel()
            self._alarms.remove(entry)

    async def next_wait(self) -> float:
        """Until the committer next waits for company; the deadline it waits for."""
        self._next_wait = asyncio.get_running_loop().create_future()
        return await self._next_wait


class FakeWrite:
    """Stands in for writing a group: records it, takes WRITE_SECONDS of the fake clock,
    and holds every group while `gate` is clear."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.groups: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.writing = asyncio.Event()
        self.fail_with: Exception | None = None

    async def __call__(self, items: list[str]) -> list[str]:
        self.groups.append(list(items))
        self.writing.set()
        await self.gate.wait()
        self.clock.advance(WRITE_SECONDS)
        if self.fail_with is not None:
            raise self.fail_with
        return [f"wrote {item}" for item in items]

    def sizes(self) -> list[int]:
        return [len(group) for group in self.groups]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def write(clock: FakeClock) -> FakeWrite:
    return FakeWrite(clock)


@pytest.fixture
async def committer(write: FakeWrite, clock: FakeClock) -> GroupCommitter[str, str]:
    """Groups of at most 10 items and 1,000 characters."""
    return GroupCommitter(write, weigh=lambda item: (1, len(item)), limits=(10, 1000), clock=clock)


@pytest.fixture(autouse=True)
def bounded(hang_guard: Callable[[float], AbstractContextManager[None]]) -> Iterator[None]:
    with hang_guard(WAIT_SECONDS):
        yield


def submit_now(committer: GroupCommitter[str, str], item: str) -> "asyncio.Task[str]":
    """Submits at once: an eager task has queued the item when this returns."""
    loop = asyncio.get_running_loop()
    return asyncio.Task(committer.submit(item), loop=loop, eager_start=True)


async def test_items_queued_before_the_writer_starts_are_one_group(committer, write):
    results = await asyncio.gather(*(committer.submit(item) for item in "abcd"))

    assert write.groups == [["a", "b", "c", "d"]]
    assert results == ["wrote a", "wrote b", "wrote c", "wrote d"]


async def test_items_arriving_while_a_group_is_written_share_the_next_group(committer, write):
    write.gate.clear()
    first = submit_now(committer, "a")
    await write.writing.wait()
    later = [submit_now(committer, item) for item in "bcd"]
    write.gate.set()
    await asyncio.gather(first, *later)

    assert write.groups == [["a"], ["b", "c", "d"]]


async def test_a_group_takes_what_waits_up_to_its_limits(committer, write):
    heavy = "x" * 1500  # over the 1,000 characters alone
    items = [*"abcdefghijkl", heavy, "m", "y" * 600]

    await asyncio.gather(*(committer.submit(item) for item in items))

    assert write.groups == [list("abcdefghij"), ["k", "l"], [heavy], ["m", "y" * 600]]


async def test_clients_answered_together_are_written_together_again(committer, write, clock):
    await asyncio.gather(*(committer.submit(item) for item in "abcd"))
    back = []
    for item in "abc":
        back.append(submit_now(committer, item))
        await clock.next_wait()  # the writer looked, and waits on for the fourth
    assert write.sizes() == [4]
    back.append(submit_now(committer, "d"))
    await asyncio.gather(*back)

    # Without waiting for them, the clients would split up: a group of the first one
    # back, then one of the other three, and so on.
    assert write.sizes() == [4, 4]


async def test_the_writer_waits_for_company_no_longer_than_the_last_write_took(
    committer, write, clock
):
    await asyncio.gather(*(committer.submit(item) for item in "abcd"))
    answered_at = clock.now()
    alone = submit_now(committer, "e")
    deadline = await clock.next_wait()
    assert write.sizes() == [4]
    clock.advance(WRITE_SECONDS)
    await alone

    assert deadline == answered_at + WRITE_SECONDS
    assert write.groups == [list("abcd"), ["e"]]


async def test_a_lone_client_is_never_held_back(committer, write):
    # The fake clock stands still between writes: a committer that held a lone client
    # back for company would never answer it (and the test would time out).
    for item in "abc":
        assert await committer.submit(item) == f"wrote {item}"

    assert write.groups == [["a"], ["b"], ["c"]]


async def test_no_waiting_for_company_when_those_waiting_fill_a_group(committer, write, clock):
    big = "x" * 400
    write.gate.clear()
    pair = [submit_now(committer, big), submit_now(committer, big)]
    await write.writing.wait()
    burst = [submit_now(committer, big) for _ in range(3)]
    write.gate.set()
    await clock.next_wait()  # one is left, and the writer waits for company

    # The pair's clients never come back, but the three waiting fill a group (1,200
    # characters of 1,000): the second group was written at once, without waiting.
    assert write.sizes() == [2, 2]
    clock.advance(WRITE_SECONDS)
    await asyncio.gather(*pair, *burst)
    assert write.sizes() == [2, 2, 1]


async def test_a_failed_write_fails_each_item_of_its_group_and_no_other(committer, write):
    write.fail_with = RuntimeError("a bug")
    failed = await asyncio.gather(
        *(committer.submit(item) for item in "ab"), return_exceptions=True
    )
    write.fail_with = None

    assert [type(error) for error in failed] == [RuntimeError, RuntimeError]
    assert await asyncio.gather(*(committer.submit(item) for item in "cd")) == [
        "wrote c",
        "wrote d",
    ]


@pytest.mark.parametrize("spares", [1, 0])
async def test_a_full_group_goes_to_a_spare_writer_while_one_is_written(write, clock, spares):
    spare = FakeWrite(clock)
    committer = GroupCommitter(
        write,
        weigh=lambda item: (1, len(item)),
        limits=(10, 1000),
        clock=clock,
        spare_write=spare,
        spare_writers=spares,
    )
    full = "x" * 1200  # a group alone
    write.gate.clear()
    first = submit_now(committer, full)
    await write.writing.wait()
    second = submit_now(committer, "y" * 1200)

    if spares:
        await spare.writing.wait()  # beside the first, which is still being written
        assert spare.groups == [["y" * 1200]]
    write.gate.set()
    await asyncio.gather(first, second)

    assert write.groups == [[full], *([] if spares else [["y" * 1200]])]
    assert spare.groups == ([["y" * 1200]] if spares else [])


async def test_a_group_not_full_waits_for_the_writer_even_with_a_spare(write, clock):
    spare = FakeWrite(clock)
    committer = GroupCommitter(
        write,
        weigh=lambda item: (1, len(item)),
        limits=(10, 1000),
        clock=clock,
        spare_write=spare,
        spare_writers=1,
    )
    write.gate.clear()
    first = submit_now(committer, "a")
    await write.writing.wait()
    second = submit_now(committer, "b")
    write.gate.set()
    await asyncio.gather(first, second)

    assert write.groups == [["a"], ["b"]]
    assert spare.groups == []
