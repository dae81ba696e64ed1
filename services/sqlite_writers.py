"""SQLite writers of one process take turns in a queue instead of SQLite's sleep-and-retry.

SQLite lets one transaction write at a time. A second writer that finds the lock taken is put to sleep
by SQLite's busy handler, for 1, 2, 5, 10 ... up to 100 ms at a time, however soon the lock is free: with
fifty customers paying at once, the unlucky ones slept through many turns (95th percentile twice the
median). Here each write transaction first takes its database file's lock in this process, so a waiting
writer starts the moment the one before commits. Other processes on the same file (a backup command, a
second instance) still meet SQLite's own lock and busy timeout, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

HOLDS = "portal_holds_writer_turn"
_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


class WriterTurns:
    """The turn to write of one SQLite database file, for an engine's write transactions."""

    def __init__(self, engine: Engine, busy_timeout: float) -> None:
        self.busy_timeout = busy_timeout
        self._turn = _turn_of(engine.url.database or "")
        # Every way a transaction ends: commit, rollback, the pool resetting or dropping the connection.
        event.listen(engine, "commit", lambda connection: self.end(connection.info))
        event.listen(engine, "rollback", lambda connection: self.end(connection.info))
        event.listen(engine.pool, "reset", self._on_reset)
        event.listen(engine.pool, "invalidate", self._on_invalidate)
        event.listen(engine.pool, "close", self._on_close)

    def take(self, info: dict[str, Any]) -> None:
        """Wait for this process's writer before to finish (at most the busy timeout, as SQLite would)."""
        if self._turn is None or info.get(HOLDS):
            return
        if not self._turn.acquire(timeout=self.busy_timeout):
            # As SQLite's own busy timeout would end, so that callers see the same error either way.
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        info[HOLDS] = True

    def end(self, info: dict[str, Any]) -> None:
        if self._turn is not None and info.pop(HOLDS, False):
            self._turn.release()

    def _on_reset(self, _dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
        self.end(record.info)

    def _on_invalidate(self, _dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self.end(record.info)

    def _on_close(self, _dbapi_connection: Any, record: Any) -> None:
        self.end(record.info)


def _turn_of(database: str) -> threading.Lock | None:
    """One lock per database file; none in memory (one connection per thread, nothing shared)."""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = os.path.realpath(database)
    with _turns_guard:
        return _turns.setdefault(path, threading.Lock())
