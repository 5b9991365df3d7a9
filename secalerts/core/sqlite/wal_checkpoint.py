"""SQLite: WAL checkpoints beside the writer instead of inside its commits.

With `wal_autocheckpoint` alone, the commit that takes the WAL past the limit copies
its pages back into the database file and syncs it before returning, while every
request waiting for the write lock waits too. So after each commit that wrote (the
backend's commit hook, base.py) a thread of the process checkpoints: PASSIVE, it
neither waits for nor blocks the writer or readers, and at most every
INTERVAL_SECONDS. The writer's autocheckpoint stays, finding little left to copy: a
checkpoint between two transactions is still needed, since only then can the next one
restart the WAL from its start.
"""

import logging
import sqlite3
import threading
import time

INTERVAL_SECONDS = 0.1
logger = logging.getLogger(__name__)
_started: dict[str, "_Checkpointer"] = {}
_lock = threading.Lock()


def after_commit(database_path: str) -> None:
    """Ask for a checkpoint of this database file; returns at once."""
    checkpointer = _started.get(database_path)
    if checkpointer is None:
        with _lock:
            checkpointer = _started.get(database_path) or _started.setdefault(
                database_path, _Checkpointer(database_path)
            )
    checkpointer.wanted.set()


class _Checkpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self.wanted = threading.Event()
        threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True).start()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        while True:
            self.wanted.wait()
            self.wanted.clear()
            try:
                # fetchall() ends the statement: one left open would hold a read
                # snapshot, and the WAL could never restart.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # the writer's autocheckpoint still runs
                logger.warning("background WAL checkpoint failed: %s", error)
            time.sleep(INTERVAL_SECONDS)
