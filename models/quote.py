"""Quotes: the business's offer with lines like an invoice's, and the customer's answer to it.

A quote is never owed: it becomes an invoice (or a retainer invoice for a deposit) only when the customer
accepts it. The invoice it became is kept here, unique, so that a quote becomes at most one invoice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PublicIdMixin
from models.document_line import LineColumns, TotalsColumns


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"  # waiting for the customer's answer; *expired* is derived from valid_until
    ACCEPTED = "accepted"  # with its invoice, made in the same transaction
    DECLINED = "declined"


class Quote(PublicIdMixin, TotalsColumns, Base):
    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        Index("ix_quotes_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=QuoteStatus.DRAFT)
    issue_date: Mapped[date]
    valid_until: Mapped[date]  # the last day it can be accepted, in the business's time zone
    # 0: the accepted quote becomes an invoice; otherwise a retainer invoice for this share of its total.
    deposit_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    notes: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The customer's answer: who, when, from which address; the typed name is the acceptance's signature.
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("portal_users.id"), default=None)
    answered_ip: Mapped[str] = mapped_column(String(45), default="")
    signature_name: Mapped[str] = mapped_column(String(200), default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), unique=True, default=None)
    created_at: Mapped[datetime]

    lines: Mapped[list[QuoteLine]] = relationship(
        order_by="QuoteLine.position", cascade="all, delete-orphan", lazy="raise"
    )


class QuoteLine(LineColumns, Base):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
