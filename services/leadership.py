"""One instance at a time runs a job that must not run everywhere at once (payment reconciliation).

Instances sharing a PostgreSQL database elect a leader per job with a session-level advisory lock, held on
a connection of the leader's own for as long as it lives: the other instances skip their rounds while the
lock is taken. A leader that stops, crashes or loses its connection releases the lock with its session, and
the next instance to try takes over within a round. Sticky rather than per round, so that the leader's
memory of what it asked recently (``reconciliation.AskSchedule``) is the only one that counts: two
alternating instances would ask the gateway about each old attempt twice as often.

SQLite has one writer on one machine and needs no election: ``held`` is always true there. Rows are still
booked under their own locks (``online_payments.book_result``), so whatever happens to the lock, a leader
losing it in the middle of a round and the next one starting cannot book anything twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref

from sqlalchemy import Connection, text

from services.database import Database

logger = logging.getLogger(__name__)

RECONCILIATION_LOCK = 0x706F7274616C02  # "portal" and the job's number; MIGRATION_LOCK is "portal" alone

_by_name: weakref.WeakValueDictionary[str, Leadership] = weakref.WeakValueDictionary()  # newest per job


def leaders() -> dict[str, bool]:
    """Per job that elects a leader, whether this instance led it when last asked."""
    return {name: leadership.elected for name, leadership in list(_by_name.items())}


class Leadership:
    """Whether this instance leads ``key``'s job; ask ``held()`` at the start of every round."""

    def __init__(self, db: Database, key: int, *, name: str) -> None:
        self.db = db
        self.key = key
        self.name = name
        self._held = _Held()
        # A leadership dropped without release() (a test's, a portal rebuilt) must not leave its lock in a
        # pooled connection's session, where it would outlive it: its connection is closed with it.
        weakref.finalize(self, self._held.drop)
        self._lock = threading.Lock()
        _by_name[name] = self

    @property
    def elected(self) -> bool:
        """Whether this instance held the lock when last asked (for metrics; no database access)."""
        return self.db.engine.dialect.name != "postgresql" or self._held.connection is not None

    def held(self) -> bool:
        """Whether this instance leads now: keeps the lock it has, or takes it when no one holds it.

        Blocking: call it from a worker thread. Raises what the database raised when it cannot be reached
        (the lock, if held, is then gone with the connection, and the round's loop reports the outage).
        """
        if self.db.engine.dialect.name != "postgresql":
            return True
        with self._lock:
            if self._held.connection is not None:
                try:
                    self._held.connection.exec_driver_sql("SELECT 1")  # still our session, so still our lock
                    return True
                except Exception:
                    self._discard()
                    logger.warning("%s: lost the database connection that held its lock", self.name)
                    raise
            connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
            except Exception:
                connection.invalidate()
                connection.close()
                raise
            if not taken:
                connection.close()
                return False
            self._held.connection = connection
            logger.info("%s: this instance runs it now", self.name)
            return True

    def release(self) -> None:
        """Give the lock up (at shutdown), so that another instance takes over at its next round."""
        with self._lock:
            if self._held.connection is None:
                return
            with contextlib.suppress(Exception):  # a broken connection has released it already
                self._held.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._discard()

    def _discard(self) -> None:
        self._held.drop()


class _Held:
    """The connection whose session holds a leadership's lock, if any."""

    connection: Connection | None = None

    def drop(self) -> None:
        """Close the lock's connection for good: back in the pool, its session would keep the lock."""
        if self.connection is None:
            return
        with contextlib.suppress(Exception):
            self.connection.invalidate()
            self.connection.close()
        self.connection = None
