"""Auto-pay: a customer's consent to charge a saved method, each automatic charge, the business's retries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AutoPayConsent(Base):
    """A customer's consent to charge one saved method for each new invoice on its due date.

    The consent's words as shown (in the customer's language), with who gave it, when and from which
    address, are kept for good; turning auto-pay off (or a new consent) sets ``revoked_at``, never deletes.
    A client has at most one consent without ``revoked_at`` (kept so under the client's row lock).
    """

    __tablename__ = "auto_pay_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    saved_method_id: Mapped[int] = mapped_column(ForeignKey("saved_payment_methods.id"))
    portal_user_id: Mapped[int] = mapped_column(ForeignKey("portal_users.id"))
    consent_text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    consented_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AutoPayAttempt(Base):
    """One automatic charge of an invoice: unique per invoice and attempt number, so each is made once.

    ``status``: ``started`` (claimed; the payment follows), ``waiting`` (the gateway's answer is not
    booked yet: in doubt or processing), ``succeeded``, ``failed`` (the customer was e-mailed), or
    ``skipped`` (nothing to charge: paid meanwhile, voided, or auto-pay turned off).
    """

    __tablename__ = "auto_pay_attempts"
    __table_args__ = (UniqueConstraint("invoice_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    attempt: Mapped[int] = mapped_column(Integer)  # 1 on the due date, then each retry
    consent_id: Mapped[int] = mapped_column(ForeignKey("auto_pay_consents.id"), index=True)
    run_on: Mapped[date]  # the business's day it was made for
    status: Mapped[str] = mapped_column(String(10))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None)
    failure_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AutoPaySettings(Base):
    """How the business retries a failed automatic charge (Settings > Payments); defaults without a row."""

    __tablename__ = "auto_pay_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    retry_days: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
