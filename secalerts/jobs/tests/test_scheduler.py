"""The scheduler's loop, driven by a fake clock: no test waits for real time."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from secalerts.jobs.scheduler import Job, run_forever

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time moves only when the scheduler waits; told to stop after `waits` waits."""

    def __init__(self, *, waits: int) -> None:
        self.seconds = 0.0
        self.waits_left = waits
        self.waited: list[float] = []

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds

    def wait(self, seconds: float) -> bool:
        self.waited.append(seconds)
        self.seconds += seconds
        self.waits_left -= 1
        return self.waits_left < 0

    def spend(self, seconds: float) -> None:
        """A job taking this long."""
        self.seconds += seconds


def seconds_of(runs: list[datetime]) -> list[float]:
    return [(moment - START).total_seconds() for moment in runs]


def test_each_job_runs_at_start_then_every_interval():
    clock = FakeClock(waits=4)
    runs: dict[str, list[datetime]] = {"often": [], "seldom": []}
    jobs = [
        Job("often", every_seconds=60, run=lambda now: runs["often"].append(now)),
        Job("seldom", every_seconds=90, run=lambda now: runs["seldom"].append(now)),
    ]

    run_forever(jobs, clock=clock)

    assert seconds_of(runs["often"]) == [0, 60, 120, 180]
    assert seconds_of(runs["seldom"]) == [0, 90, 180]
    assert clock.waited == [60, 30, 30, 60, 60]


def test_a_job_gets_its_arguments_and_the_time_it_runs_at():
    clock = FakeClock(waits=1)
    calls = []
    job = Job("prune", every_seconds=10, run=lambda **kw: calls.append(kw), kwargs={"keep": 5})

    run_forever([job], clock=clock)

    assert calls == [{"now": START, "keep": 5}, {"now": START + timedelta(seconds=10), "keep": 5}]


def test_a_run_that_overran_its_interval_is_not_made_up():
    clock = FakeClock(waits=1)
    runs: list[datetime] = []

    def slow(now: datetime) -> None:
        runs.append(now)
        clock.spend(250)  # over two intervals

    run_forever([Job("slow", every_seconds=100, run=slow)], clock=clock)

    assert seconds_of(runs) == [0, 350]  # not 100 and 200 at once
    assert clock.waited == [100, 100]


def test_a_failing_job_is_logged_and_every_job_runs_on(caplog):
    clock = FakeClock(waits=1)
    runs: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("the database is gone")

    jobs = [Job("broken", 10, broken), Job("fine", 10, lambda now: runs.append(now))]

    with caplog.at_level(logging.INFO, logger="secalerts.jobs.scheduler"):
        run_forever(jobs, clock=clock)

    assert seconds_of(runs) == [0, 10]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [(r.getMessage(), r.job) for r in failures] == [("job broken failed", "broken")] * 2
    assert "the database is gone" in caplog.text


def test_a_stop_while_waiting_ends_the_loop_after_the_first_runs():
    clock = FakeClock(waits=0)
    runs: list[datetime] = []

    run_forever([Job("once", 60, lambda now: runs.append(now))], clock=clock)

    assert seconds_of(runs) == [0]


@pytest.mark.parametrize("every_seconds", [0, -60])
def test_a_job_without_a_positive_interval_is_refused(every_seconds):
    with pytest.raises(ValueError, match="every_seconds must be positive"):
        Job("busy", every_seconds=every_seconds, run=print)
