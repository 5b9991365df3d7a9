"""Django's SQLite backend, whose transactions take turns on write_lock's file lock.

Every transaction Django opens on SQLite here is BEGIN IMMEDIATE (settings), which
takes the database's one write lock; taking the file lock first only changes how the
waiting is done: in turn, instead of on SQLite's busy handler.
"""

from django.db.backends.sqlite3 import base

from secalerts.core.sqlite import write_lock


class DatabaseWrapper(base.DatabaseWrapper):
    _has_turn = False

    def _start_transaction_under_autocommit(self) -> None:
        if not self.is_in_memory_db():
            write_lock.acquire(self.settings_dict)
            self._has_turn = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)
        if autocommit:  # the transaction is over: committed or rolled back
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            write_lock.release(self.settings_dict)
