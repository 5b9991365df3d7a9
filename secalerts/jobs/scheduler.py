"""Runs jobs at fixed intervals in this process, one at a time, until told to stop.

A plain loop rather than a scheduling library: the jobs are few, run in one process,
need no persistence (each is idempotent, so a run missed while the process was down
is no loss) and no calendar; the loop takes its time from a Clock, so tests drive it
with a fake one instead of waiting.
"""

import logging
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
# How long a stop request (SIGTERM, SIGINT) may wait to be noticed between jobs.
STOP_CHECK_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[..., object]  # called as run(now=..., **kwargs)
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.every_seconds <= 0:  # the loop would run it without pause
            raise ValueError(f"job {self.name}: every_seconds must be positive")


class Clock(Protocol):
    def now(self) -> datetime:
        """The time given to a job."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for when jobs are due."""

    def wait(self, seconds: float) -> bool:
        """Wait this long, or less if told to stop; True once told to stop."""


def run_job(job: Job, *, now: datetime) -> bool:
    """Run one job; a failure is logged, not raised. Returns whether it succeeded."""
    # As around a request: a connection broken (the database restarted) or past
    # CONN_MAX_AGE is replaced, not reused by every later run.
    close_old_connections()
    started = time.perf_counter()
    try:
        result = job.run(now=now, **job.kwargs)
    except Exception:
        logger.exception("job %s failed", job.name, extra={"job": job.name})
        return False
    finally:
        close_old_connections()
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    logger.info(
        "job %s done",
        job.name,
        extra={"job": job.name, "result": result, "duration_ms": duration_ms},
    )
    return True


def run_forever(jobs: Sequence[Job], *, clock: Clock) -> None:
    """Every job at once, then every `every_seconds` after it was due, until the clock
    says stop. Runs a job overran are not made up: the next is an interval from then."""
    due = dict.fromkeys((job.name for job in jobs), clock.monotonic())
    while True:
        for job in jobs:
            if clock.monotonic() >= due[job.name]:
                run_job(job, now=clock.now())
                due[job.name] += job.every_seconds
                if due[job.name] <= clock.monotonic():
                    due[job.name] = clock.monotonic() + job.every_seconds
        if clock.wait(max(0.0, min(due.values()) - clock.monotonic())):
            return


class SystemClock:
    """Real time, stopped by SIGTERM or SIGINT (a job running then is finished first)."""

    def __init__(self) -> None:
        self.stopping = False
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._stop)

    def now(self) -> datetime:
        return timezone.now()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float) -> bool:
        # In slices: a signal handler only sets a flag (waking a threading.Event from
        # one can deadlock), and a sleep resumes after the handler runs.
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, STOP_CHECK_SECONDS))
        return self.stopping

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
