"""Recurring invoices: the business's profiles (what to bill, to whom, how often) and each run's invoice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PublicIdMixin
from models.document_line import LineColumns, TotalsColumns


class RecurringStatus:
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class RecurringProfile(PublicIdMixin, TotalsColumns, Base):
    """Bills a client the same lines every ``every`` ``unit`` (day, week, month, year) from ``start_date``.

    Occurrence k is counted from the start date (``services.schedules``), so that month-end days clamp
    without drifting: 31 January, monthly, gives 28 February and then 31 March. ``next_run`` is the day
    of the first occurrence not made yet (None once the profile has ended); it only moves forward in the
    transaction that makes that occurrence's invoice, with its ``recurring_runs`` row.
    """

    __tablename__ = "recurring_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    unit: Mapped[str] = mapped_column(String(10))  # day | week | month | year
    every: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date]
    end_date: Mapped[date | None] = mapped_column(default=None)  # the last day an invoice may be made
    max_count: Mapped[int | None] = mapped_column(Integer, default=None)  # or how many invoices in all
    due_days: Mapped[int] = mapped_column(Integer)  # each invoice is due this many days after its day
    send: Mapped[bool] = mapped_column(Boolean)  # sent to the customer, or kept as a draft
    status: Mapped[str] = mapped_column(String(10), default=RecurringStatus.ACTIVE)
    next_run: Mapped[date | None] = mapped_column(default=None)
    made_count: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lines: Mapped[list[RecurringProfileLine]] = relationship(
        order_by="RecurringProfileLine.position", cascade="all, delete-orphan", lazy="raise"
    )


class RecurringProfileLine(LineColumns, Base):
    __tablename__ = "recurring_profile_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_profiles.id", ondelete="CASCADE"), index=True
    )


class RecurringRun(Base):
    """The invoice one occurrence of a profile made: unique per profile and day, so it is made once."""

    __tablename__ = "recurring_runs"
    __table_args__ = (UniqueConstraint("profile_id", "run_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("recurring_profiles.id"))
    run_date: Mapped[date]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    created_at: Mapped[datetime]
