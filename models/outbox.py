"""E-mail outbox (written with the event that causes a message), delivery attempts and webhook events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PublicIdMixin


class OutboxEmail(PublicIdMixin, Base):
    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), default=None)
    to_addresses: Mapped[str] = mapped_column(Text)  # comma separated
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    # Written with the message in the same flush; read by the sender with a query of its own.
    attachments: Mapped[list[OutboxAttachment]] = relationship(lazy="raise", order_by="OutboxAttachment.id")


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("outbox_emails.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # A document the sender renders when it first sends the message ("receipt:<payment>:<language>"),
    # kept in ``content`` from then on; "" for content given when the message was queued.
    rendered_from: Mapped[str] = mapped_column(String(100), default="")


class EmailDeliveryAttempt(Base):
    __tablename__ = "email_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("outbox_emails.id", ondelete="CASCADE"), index=True)
    succeeded: Mapped[bool]
    error: Mapped[str] = mapped_column(Text, default="")
    attempted_at: Mapped[datetime]


class ProcessedWebhookEvent(Base):
    """A gateway event already handled; a second delivery of the same id is ignored."""

    __tablename__ = "processed_webhook_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]
