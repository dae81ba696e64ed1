"""Where the sandbox gateway keeps its charges: in memory (tests), or in the portal's database.

The sandbox plays the part of a gateway on someone else's servers. Its record of each charge is kept
apart from our own books, written in a statement of its own before the charge is answered, so that a
charge survives whatever happens to the attempt that asked for it, as it would at a real gateway.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from sqlalchemy import select

from models import SandboxCharge
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present

Record = dict[str, Any]


class SandboxRecords(Protocol):
    def get(self, key: str) -> Record | None:
        """The record kept under an idempotency key, or None."""
        ...

    def keep(self, key: str, record: Record) -> Record:
        """Keep ``record`` under ``key`` unless one is kept already; returns the one kept."""
        ...


class MemoryRecords:
    """Records of one process: lost when it ends, like the sandbox's replies before it had a database."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Record | None:
        with self._lock:
            return self._records.get(key)

    def keep(self, key: str, record: Record) -> Record:
        with self._lock:
            return self._records.setdefault(key, record)


class DatabaseRecords:
    """Records in the ``sandbox_charges`` table, shared by every instance and kept across restarts."""

    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock

    def get(self, key: str) -> Record | None:
        with self.db.reading() as session:
            return session.scalar(select(SandboxCharge.answer).where(SandboxCharge.idempotency_key == key))

    def keep(self, key: str, record: Record) -> Record:
        with self.db.each_statement_committed() as connection:
            kept = insert_unless_present(
                connection,
                SandboxCharge,
                ["idempotency_key"],
                idempotency_key=key,
                gateway_payment_id=str(record.get("gateway_payment_id", "")),
                answer=record,
                created_at=self.clock(),
            )
            if kept:
                return record
            # The same key before, or at the same moment: the first one kept stands.
            return connection.scalars(
                select(SandboxCharge.answer).where(SandboxCharge.idempotency_key == key)
            ).one()
