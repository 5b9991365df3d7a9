"""Django's SQLite backend: its transactions take turns on write_lock's file lock, and
its commits that wrote ask wal_checkpoint for a checkpoint beside the writer.

Every transaction Django opens on SQLite here is BEGIN IMMEDIATE (settings), which
takes the database's one write lock; taking the file lock first only changes how the
waiting is done: in turn, instead of on SQLite's busy handler.
"""

from typing import Any

from django.db.backends.sqlite3 import base

from secalerts.core.sqlite import wal_checkpoint, write_lock


class DatabaseWrapper(base.DatabaseWrapper):
    # The hooks extended here are private to Django's backends and django-stubs leave
    # them out: each super() call to one carries an ignore[misc] ("undefined in superclass").
    _has_turn = False
    _changes_at_last_commit = 0  # the sqlite3 connection's total_changes then

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self._changes_at_last_commit = 0  # a new connection counts from 0
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if not self.is_in_memory_db():
            write_lock.acquire(self.settings_dict)
            self._has_turn = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _commit(self) -> None:
        super()._commit()  # type: ignore[misc]
        # Here rather than in the services that write: every write, ingest or triage,
        # grows the WAL, and no service needs to know which database it writes to.
        if self.connection is None or self.is_in_memory_db():
            return
        changes = self.connection.total_changes
        if changes != self._changes_at_last_commit:  # a read-only transaction needs none
            self._changes_at_last_commit = changes
            wal_checkpoint.after_commit(str(self.settings_dict["NAME"]))

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]
        if autocommit:  # the transaction is over: committed or rolled back
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            write_lock.release(self.settings_dict)
