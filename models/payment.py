"""Payments (money received) and their allocations to invoices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PublicIdMixin


class PaymentKind(StrEnum):
    INVOICE = "invoice"
    RETAINER = "retainer"


class PaymentStatus(StrEnum):
    PENDING = "pending"  # stored before the gateway is called
    PROCESSING = "processing"  # the gateway accepted it; money not settled yet (bank debits)
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentMethodKind(StrEnum):
    CARD = "card"
    BANK_ACCOUNT = "bank_account"
    CASH = "cash"
    CHEQUE = "cheque"
    BANK_TRANSFER = "bank_transfer"
    OTHER = "other"


class AllocationKind(StrEnum):
    PAYMENT = "payment"  # a payment paying an invoice when it is made
    CREDIT = "credit"  # a credit note or an excess payment applied later
    RETAINER = "retainer"  # a retainer payment applied to an invoice


class Payment(PublicIdMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("organization_id", "receipt_number"),
        Index("ix_payments_client_received", "client_id", "status", "received_at"),
        Index("ix_payments_client_unapplied", "client_id", "kind", "unapplied_minor"),
        # Reconciliation looks for attempts without a final answer every few seconds: a few rows among
        # all payments ever made.
        Index(
            "ix_payments_unanswered",
            "status",
            sqlite_where=text("status IN ('pending', 'processing')"),
            postgresql_where=text("status IN ('pending', 'processing')"),
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    portal_user_id: Mapped[int | None] = mapped_column(ForeignKey("portal_users.id"), default=None)
    kind: Mapped[str] = mapped_column(String(20), default=PaymentKind.INVOICE)
    retainer_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), default=None)
    receipt_number: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # amount - allocations - refunds of a succeeded payment: available credit or retainer.
    unapplied_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    method: Mapped[str] = mapped_column(String(20))
    gateway: Mapped[str] = mapped_column(String(20), default="offline")
    gateway_payment_id: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    # Which account at the gateway the attempt was made with (its keys may be changed in Settings): an
    # attempt is never closed as "not charged" because another account has no charge for it.
    gateway_account: Mapped[str] = mapped_column(String(64), default="")
    saved_method_id: Mapped[int | None] = mapped_column(ForeignKey("saved_payment_methods.id"), default=None)
    method_brand: Mapped[str] = mapped_column(String(40), default="")
    method_last4: Mapped[str] = mapped_column(String(4), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")
    # invoice id -> amount, as asked for; allocations are made from it only when the money arrives.
    planned_allocations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failure_message: Mapped[str] = mapped_column(Text, default="")
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Allocation(Base):
    """Part of a payment or credit note applied to one invoice. Never edited; a reversal is a new row."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
        CheckConstraint("amount_minor <> 0", name="amount_nonzero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None, index=True)
    credit_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_notes.id"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
