"""Credit notes: amounts the business owes back, available as credit until applied or refunded."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PublicIdMixin
from models.document_line import LineColumns, TotalsColumns


class CreditNoteStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    VOID = "void"


class CreditNote(PublicIdMixin, TotalsColumns, Base):
    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        Index("ix_credit_notes_client_remaining", "client_id", "remaining_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=CreditNoteStatus.DRAFT)
    issue_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    # total - applied - refunded; kept in the same transaction as each application or refund.
    remaining_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]

    lines: Mapped[list[CreditNoteLine]] = relationship(
        order_by="CreditNoteLine.position", cascade="all, delete-orphan", lazy="raise"
    )


class CreditNoteLine(LineColumns, Base):
    __tablename__ = "credit_note_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id", ondelete="CASCADE"), index=True)
