"""Scheduled jobs: background work claimed with a lease, so that one instance runs each job at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ScheduledJob(Base):
    """One job of a kind (``outbox``, ``payment_settling``, ``reminders`` ...), for a key (``""`` for the
    portal's own periodic jobs, a business's id for its reminders); ``services.scheduler`` runs it.

    ``due_at`` is when it runs next (None once a one-off job is finished); ``lease_holder`` is the
    instance that claimed it and ``lease_expires_at`` when another may take it over; ``attempts`` counts
    the runs started since the last one that succeeded (1 while the first runs, more after a failure or
    a crash), and ``last_error`` says why the last one failed.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = (UniqueConstraint("kind", "key"), Index("ix_scheduled_jobs_due", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100), default="")
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_holder: Mapped[str] = mapped_column(String(100), default="")  # "" while no instance holds it
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_started_at: Mapped[datetime | None] = mapped_column(default=None)
    last_succeeded_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
