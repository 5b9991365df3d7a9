"""Waiting, with a bound, for what another process does.

Code in the test's own process offers events and futures, and tests wait on those. A
process's exit can be waited for (a pidfd). A row stored, a port opened, a file
checkpointed offer nothing to wait on, so `wait_until` polls: the one place in the
tests that sleeps. Both assert the condition, never how long it took.
"""

import os
import select
import time
from collections.abc import Callable

POLL_SECONDS = 0.05


def wait_until(condition: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    """Return once `condition()` is true; fail if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(POLL_SECONDS)


def wait_for_exit(pid: int, timeout: float = 60) -> None:
    """Return once the process has exited (any process, not only a child of this one)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)  # readable once the process has exited
        if not poller.poll(timeout * 1000):
            raise AssertionError(f"process {pid} still running after {timeout} s")
    finally:
        os.close(pidfd)
