"""SQLite: write transactions of several worker processes take turns on a file lock.

SQLite admits one writer at a time, and a connection that finds the database locked
retries on SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between
tries: the waiting worker wakes on average about 10 ms after the writer is done, and
with two workers that gap came after every batch (`serve --workers 2` was no faster
than one worker). Waiting on an flock(2) of a file beside the database instead, a
worker tries again within a millisecond of the release. Triage writes take the same
turns: on the busy handler, an analyst's change waited out batch after batch (p50
138-152 ms under the soak's ingest load). Other databases: no lock.

Taken around the outermost transaction of a write, never inside one: a transaction
holding SQLite's write lock while waiting here would wait on a worker that waits on it.
"""

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

from django.db import OperationalError, connection

POLL_SECONDS = 0.0005
_files: dict[str, int] = {}  # lock file path -> open descriptor, one per process
# An flock belongs to the open file, not the thread: threads of one process (a Django
# view beside the group committer) take turns on this lock first.
_thread_lock = threading.Lock()


@contextlib.contextmanager
def write_lock() -> Iterator[None]:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield
        return
    timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)
    deadline = time.monotonic() + timeout
    if not _thread_lock.acquire(timeout=timeout):
        raise OperationalError("database is locked")
    try:
        descriptor = _descriptor(lock_path())
        _acquire(descriptor, deadline)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def lock_path() -> str:
    """The lock file of the SQLite database `connection` uses."""
    return f"{connection.settings_dict['NAME']}.write-lock"


def _descriptor(path: str) -> int:
    descriptor = _files.get(path)
    if descriptor is None:
        descriptor = _files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return descriptor


def _acquire(descriptor: int, deadline: float) -> None:
    """Polled rather than blocking, to give up at the database's own busy timeout
    (SQLite's answer then, "database is locked", is a 503)."""
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OperationalError("database is locked") from None
            time.sleep(POLL_SECONDS)
