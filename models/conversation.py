"""What customers and the business say to each other: invoice and quote comments, messages and reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PublicIdMixin


class Comment(PublicIdMixin, Base):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint("(portal_user_id IS NULL) <> (staff_user_id IS NULL)", name="one_author"),
        CheckConstraint("(invoice_id IS NULL) <> (quote_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the thread is about: an invoice or a quote (exactly one).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True, default=None)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"), index=True, default=None)
    portal_user_id: Mapped[int | None] = mapped_column(ForeignKey("portal_users.id"), default=None)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Message(PublicIdMixin, Base):
    """A message a customer sends the business with Send Email."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    portal_user_id: Mapped[int] = mapped_column(ForeignKey("portal_users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Review(PublicIdMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    portal_user_id: Mapped[int] = mapped_column(ForeignKey("portal_users.id"))
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
