"""SQLite: transactions of several worker processes take turns on a file lock.

SQLite admits one writer at a time, and a connection that finds the database locked
retries on SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between
tries: the waiting worker wakes on average about 10 ms after the writer is done, and
with two workers that gap came after every batch (`serve --workers 2` was no faster
than one worker). Waiting on an flock(2) of a file beside the database instead, a
worker tries again within a millisecond of the release. Every transaction takes it
(the backend in base.py, at BEGIN), not ingestion alone: on the busy handler an analyst's
change waited out batch after batch, up to 2.7-5.8 s with two workers under batch
load. Other databases: no lock.
"""

import fcntl
import os
import threading
import time
from typing import Any

from django.db import OperationalError

POLL_SECONDS = 0.0005
_files: dict[str, int] = {}  # lock file path -> open descriptor, one per process
# An flock belongs to the open file, not the thread: threads of one process (a Django
# view beside the group committer) take turns on a thread lock of the file first.
_thread_locks: dict[str, threading.Lock] = {}


def acquire(settings_dict: dict[str, Any]) -> None:
    """Wait for this process's turn, then the database's, for at most the database's
    busy timeout; past it, "database is locked" as SQLite says it (a 503)."""
    path = lock_path(settings_dict)
    timeout = settings_dict.get("OPTIONS", {}).get("timeout", 5)
    deadline = time.monotonic() + timeout
    thread_lock = _thread_locks.setdefault(path, threading.Lock())
    if not thread_lock.acquire(timeout=timeout):
        raise OperationalError("database is locked")
    try:
        _acquire(_descriptor(path), deadline)
    except BaseException:
        thread_lock.release()
        raise


def release(settings_dict: dict[str, Any]) -> None:
    path = lock_path(settings_dict)
    fcntl.flock(_descriptor(path), fcntl.LOCK_UN)
    _thread_locks[path].release()


def lock_path(settings_dict: dict[str, Any]) -> str:
    """The lock file beside the SQLite database."""
    return f"{settings_dict['NAME']}.write-lock"


def _descriptor(path: str) -> int:
    descriptor = _files.get(path)
    if descriptor is None:
        descriptor = _files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return descriptor


def _acquire(descriptor: int, deadline: float) -> None:
    """Polled rather than blocking, to give up at the database's own busy timeout."""
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OperationalError("database is locked") from None
            time.sleep(POLL_SECONDS)
