"""Refund requests from customers and the refunds paid out of credits or retainers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PublicIdMixin


class RefundSource(StrEnum):
    CREDIT = "credit"
    RETAINER = "retainer"


class RefundRequestStatus(StrEnum):
    OPEN = "open"  # the amount is reserved until the business decides
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundRequest(PublicIdMixin, Base):
    __tablename__ = "refund_requests"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    portal_user_id: Mapped[int | None] = mapped_column(ForeignKey("portal_users.id"), default=None)
    source: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=RefundRequestStatus.OPEN)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Refund(PublicIdMixin, Base):
    """Money paid back out of one payment's unapplied amount or one credit note's remainder."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None, index=True)
    credit_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_notes.id"), default=None, index=True
    )
    refund_request_id: Mapped[int | None] = mapped_column(ForeignKey("refund_requests.id"), default=None)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.SUCCEEDED)
    method: Mapped[str] = mapped_column(String(20), default="manual")
    gateway_refund_id: Mapped[str | None] = mapped_column(String(100), default=None)
    failure_reason: Mapped[str] = mapped_column(String(300), default="")  # the gateway's words, when failed
    refunded_at: Mapped[datetime]
    created_at: Mapped[datetime]
