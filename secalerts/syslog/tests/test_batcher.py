"""Batching: a batch every 1,000 lines or 200 ms, one at a time, kept through database
errors; the queue bound that slows TCP senders; each line counted once in the metrics.
The store is faked: no database."""

import asyncio
import threading
from typing import Any

import pytest
from django.db import OperationalError
from prometheus_client import REGISTRY

from secalerts.syslog.batcher import Batcher, Counters, Line, prepare_events

WAIT_SECONDS = 10  # a bound on waiting for a condition, never a measured time


def simple_parse(line: str, *, now: Any, default_host: str | None = None) -> dict[str, Any]:
    program, _, message = line.partition(": ")
    return {
        "event_type": "test.line" if message else "log.line",
        "source": default_host,
        "message": message or line,
        "data": {"program": program},
    }


class FakeTimers:
    """call_later that only records: the test fires the timer itself."""

    def __init__(self) -> None:
        self.scheduled: list[FakeTimers.Handle] = []

    def __call__(self, delay: float, callback: Any) -> "FakeTimers.Handle":
        handle = FakeTimers.Handle(delay, callback)
        self.scheduled.append(handle)
        return handle

    class Handle:
        def __init__(self, delay: float, callback: Any) -> None:
            self.delay, self.callback, self.cancelled = delay, callback, False

        def cancel(self) -> None:
            self.cancelled = True

        def fire(self) -> None:
            assert not self.cancelled
            self.callback()


class RecordingStore:
    """Stores nothing; records the batches handed to it, and can fail or block."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failures = failures or []
        self.gate = threading.Event()
        self.gate.set()
        self.stored = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def __call__(self, events: list[dict[str, Any]]) -> int:
        self.gate.wait(WAIT_SECONDS)
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append(list(events))
        self.loop.call_soon_threadsafe(self.stored.set)
        return len(events)


def lines(count: int, sender: str = "127.0.0.1") -> list[Line]:
    return [Line(sender, f"prog: line {n}") for n in range(count)]


@pytest.fixture
async def running():
    started: list[tuple[Batcher, asyncio.Task[None]]] = []

    def start(**options: Any) -> Batcher:
        batcher = Batcher(**{"parse": simple_parse} | options)
        started.append((batcher, asyncio.create_task(batcher.run())))
        return batcher

    yield start
    for batcher, task in started:
        task.cancel()
        batcher.close()


async def test_a_batch_is_sealed_at_1000_lines(running):
    store, timers = RecordingStore(), FakeTimers()
    batcher = running(store=store, call_later=timers)

    batcher.add(lines(999))
    assert not timers.scheduled[0].cancelled  # the batch is still open
    batcher.add(lines(1))
    await asyncio.wait_for(store.stored.wait(), WAIT_SECONDS)

    assert [len(batch) for batch in store.batches] == [1000]
    assert timers.scheduled[0].cancelled  # the size sealed it, not the timer
    assert batcher.counters.received == 1000


async def test_a_batch_is_sealed_by_the_timer_after_200_ms(running):
    store, timers = RecordingStore(), FakeTimers()
    batcher = running(store=store, call_later=timers)

    batcher.add(lines(3))
    batcher.add(lines(2))
    [timer] = timers.scheduled  # one timer per batch, started by its first line
    assert not timer.cancelled  # the batch is still open
    assert timer.delay == pytest.approx(0.2)
    timer.fire()
    await asyncio.wait_for(store.stored.wait(), WAIT_SECONDS)

    assert [len(batch) for batch in store.batches] == [5]


async def test_the_real_timer_seals_a_small_batch(running):
    store = RecordingStore()
    batcher = running(store=store)

    batcher.add(lines(1))
    await asyncio.wait_for(store.stored.wait(), WAIT_SECONDS)

    assert [len(batch) for batch in store.batches] == [1]


async def test_a_full_queue_makes_senders_wait_until_a_batch_is_stored(running):
    store = RecordingStore()
    store.gate.clear()  # the database is slow
    batcher = running(store=store, max_lines=10, max_pending_batches=2)

    batcher.add(lines(20))
    assert batcher.full
    # Eager: the waiter has run up to its wait when the task is made.
    waiter = asyncio.Task(
        batcher.wait_for_room(), loop=asyncio.get_running_loop(), eager_start=True
    )
    assert not waiter.done()
    store.gate.set()
    await asyncio.wait_for(waiter, WAIT_SECONDS)
    await asyncio.wait_for(batcher.drain(), WAIT_SECONDS)

    assert [len(batch) for batch in store.batches] == [10, 10]
    assert not batcher.full


async def test_the_next_batch_is_parsed_while_one_is_stored(running):
    store, parsed = RecordingStore(), []
    store.gate.clear()
    loop, all_parsed = asyncio.get_running_loop(), asyncio.Event()

    def parse(line: str, *, now: Any, default_host: str | None = None) -> dict[str, Any]:
        parsed.append(line)
        if len(parsed) == 4:
            loop.call_soon_threadsafe(all_parsed.set)
        return simple_parse(line, now=now, default_host=default_host)

    batcher = running(store=store, parse=parse, max_lines=2)

    batcher.add(lines(4))
    await asyncio.wait_for(all_parsed.wait(), WAIT_SECONDS)

    assert len(parsed) == 4
    assert store.batches == []  # the first batch is still being stored
    store.gate.set()
    await asyncio.wait_for(batcher.drain(), WAIT_SECONDS)
    assert [len(batch) for batch in store.batches] == [2, 2]


async def test_a_database_error_keeps_the_batch_and_retries_it(running):
    store = RecordingStore(failures=[OperationalError("down"), OperationalError("still down")])
    batcher = running(store=store, max_lines=3, retry_seconds=(0.001, 0.002))

    batcher.add(lines(3))
    await asyncio.wait_for(batcher.drain(), WAIT_SECONDS)

    [batch] = store.batches
    assert [event["message"] for event in batch] == ["line 0", "line 1", "line 2"]
    assert batcher.counters.database_errors == 2
    assert batcher.counters.ingested == 3


async def test_a_batch_that_cannot_be_stored_is_stored_event_by_event(running):
    store = RecordingStore(failures=[ValueError("a bug"), ValueError("the same bug")])
    batcher = running(store=store, max_lines=3)

    batcher.add(lines(3))
    await asyncio.wait_for(batcher.drain(), WAIT_SECONDS)

    # The whole batch failed, then its first event alone: the other two are stored.
    assert [len(batch) for batch in store.batches] == [1, 1]
    assert batcher.counters.ingested == 2
    assert batcher.counters.failed == 1


def test_events_are_validated_and_say_who_received_them():
    def parse(line: str, *, now: Any, default_host: str | None = None) -> dict[str, Any]:
        if line == "raise":
            raise RuntimeError("parser bug")
        if line == "bad type":
            return simple_parse("prog: x", now=now) | {"event_type": "Not A Type"}
        return simple_parse(line, now=now, default_host=default_host)

    batch = [
        Line("192.0.2.1", "sshd: hello"),
        Line("192.0.2.2", "no colon here"),
        Line("192.0.2.3", "bad type"),
        Line("192.0.2.4", "raise"),
    ]

    prepared = prepare_events(batch, parse=parse)

    events = prepared.events
    assert [e["event_type"] for e in events] == ["test.line", "log.line", "log.line", "log.line"]
    assert [e["received_by"] for e in events] == [
        {"kind": "syslog", "name": f"192.0.2.{n}"} for n in range(1, 5)
    ]
    assert events[0]["source"] == "192.0.2.1"  # no host in the line: the sender's address
    assert events[2]["message"] == "bad type"  # a line the parser got wrong is kept raw
    assert "event_type" in events[2]["data"]["invalid"]
    assert all(event["id"] and event["timestamp"] for event in events)
    assert prepared.unparsed == 3
    assert prepared.invalid == 0


def test_counters_are_plain_numbers_for_the_log():
    counters = Counters(received=3, ingested=2)

    assert counters.as_dict()["received"] == 3
    assert counters.as_dict()["ingested"] == 2


def syslog_counts() -> dict[str, float]:
    """Events the syslog path counted by result, as /metrics reports them (one process)."""
    name, labels = "secalerts_events_ingested_total", {"path": "syslog"}
    return {
        result: REGISTRY.get_sample_value(name, labels | {"result": result}) or 0.0
        for result in ("accepted", "duplicate", "rejected")
    }


async def test_each_line_is_counted_once_as_accepted_duplicate_or_rejected(running):
    class OneAlreadyStored(RecordingStore):
        def __call__(self, events: list[dict[str, Any]]) -> int:
            return super().__call__(events) - 1

    before = syslog_counts()
    first = running(store=OneAlreadyStored(), max_lines=4)
    first.add(lines(4))
    await asyncio.wait_for(first.drain(), WAIT_SECONDS)
    # The whole batch fails, then its first event alone: that one is lost (rejected).
    failing = running(store=RecordingStore(failures=[ValueError(), ValueError()]), max_lines=3)
    failing.add(lines(3))
    await asyncio.wait_for(failing.drain(), WAIT_SECONDS)
    after = syslog_counts()

    assert {key: after[key] - before[key] for key in after} == {
        "accepted": 5.0,
        "duplicate": 1.0,
        "rejected": 1.0,
    }
