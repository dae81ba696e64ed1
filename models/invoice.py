"""Invoices and retainer invoices (advance payment requests), with their line items."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PublicIdMixin
from models.document_line import LineColumns, TotalsColumns


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    RETAINER = "retainer"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    VIEWED = "viewed"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


OPEN_INVOICE_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.PARTIALLY_PAID)


class Invoice(PublicIdMixin, TotalsColumns, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        # Outstanding amounts are summed over the few invoices with a balance, not the whole history.
        Index("ix_invoices_client_open", "client_id", "kind", "balance_due_minor"),
        Index("ix_invoices_client_due", "client_id", "due_date"),
        # The customer's invoice list filters, counts, searches and sorts within one client with these.
        Index("ix_invoices_client_issued", "client_id", "issue_date"),
        Index("ix_invoices_client_status", "client_id", "status", "kind"),
        Index("ix_invoices_client_balance", "client_id", "balance_due_minor"),
        Index("ix_invoices_client_total", "client_id", "total_minor"),
        Index("ix_invoices_client_number", "client_id", "number", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(20), default=InvoiceKind.INVOICE)
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT)
    issue_date: Mapped[date]
    due_date: Mapped[date]
    # total - everything applied to it (payments, credits, retainers); kept in the same transaction.
    balance_due_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    viewed_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan", lazy="raise"
    )


class InvoiceLine(LineColumns, Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
