"""Payment reminders: the business's rules and texts, and each reminder sent for an invoice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ReminderSettings(Base):
    """Whether the business sends reminders, and on which days; one row per business once saved.

    ``rule_days`` lists the days relative to an invoice's due date, comma separated ("-3,0,7,30": three
    days before, on the day, a week and a month after). ``sent_through`` is the last day (in the
    business's time zone) whose reminders were all sent: a run after an outage catches up the days
    after it, and turning reminders on sends none for the days they were off.
    """

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    rule_days: Mapped[str] = mapped_column(String(200), default="")
    sent_through: Mapped[date | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]
    # The late fee (``services.late_fees``): '' for none, 'fixed' (``late_fee_value`` in the overdue
    # invoice's currency) or 'percent' (of its balance); once, or each month it stays overdue.
    late_fee_kind: Mapped[str] = mapped_column(String(10), default="", server_default="")
    late_fee_value: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal(0), server_default="0")
    late_fee_monthly: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    late_fee_since: Mapped[date | None] = mapped_column(default=None)  # the business's day it was turned on


class ReminderText(Base):
    """The business's own wording of one reminder in one language; without a row, the portal's own."""

    __tablename__ = "reminder_texts"
    __table_args__ = (UniqueConstraint("organization_id", "language", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    language: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20))  # before | due | overdue
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class InvoiceReminder(Base):
    """A reminder of one rule sent for one invoice: the unique row is what makes it at most once.

    Written in the transaction that queues its e-mail, so the two are committed together or not at all.
    """

    __tablename__ = "invoice_reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "rule_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    rule_days: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))  # the wording it was sent with: before | due | overdue
    email_id: Mapped[int] = mapped_column(ForeignKey("outbox_emails.id"), index=True)
    sent_on: Mapped[date]  # the business's day it was sent for
    created_at: Mapped[datetime]


class InvoiceLateFee(Base):
    """A late fee added to an overdue invoice for one period (0, then each month after for a monthly fee),
    billed by its own issued invoice: the unique row is what makes it at most once.

    Written in the transaction that numbers and issues the fee's invoice and queues its e-mail.
    """

    __tablename__ = "invoice_late_fees"
    __table_args__ = (UniqueConstraint("invoice_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    period: Mapped[int] = mapped_column(Integer)
    fee_invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    added_on: Mapped[date]  # the business's day it was added for
    created_at: Mapped[datetime]
