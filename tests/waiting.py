"""Waiting, with a bound, for a condition that another process brings about: a row
stored, a process gone, a port open, a file checkpointed.

Code in the test's own process offers events and futures, and tests wait on those.
Another process offers nothing to wait on, so this polls: the one place in the tests
that sleeps. It asserts the condition, never how long it took.
"""

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
