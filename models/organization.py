"""The business that runs the portal, its staff and its document number sequences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import AddressMixin, Base, PublicIdMixin


class Organization(PublicIdMixin, AddressMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    logo_mime: Mapped[str] = mapped_column(String(50), default="")
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    locale: Mapped[str] = mapped_column(String(20), default="en_US")  # how numbers and dates are written
    default_language: Mapped[str] = mapped_column(String(20), default="en")  # for readers who chose none
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # an IANA name
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    default_terms: Mapped[str] = mapped_column(Text, default="")  # printed on new invoices
    default_notes: Mapped[str] = mapped_column(Text, default="")
    accept_cards: Mapped[bool] = mapped_column(Boolean, default=True)
    accept_bank_debits: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Settings > Staff: every staff member signs in with a second step (services.two_factor).
    require_staff_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_sign_in_links: Mapped[bool] = mapped_column(Boolean, default=True)  # services.sign_in_links
    pay_link_days: Mapped[int] = mapped_column(Integer, default=60)  # how long a pay link works
    # Settings > Business: printed on invoices; the IBAN (compact) also makes the EPC payment QR code.
    tax_id: Mapped[str] = mapped_column(String(50), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    # Settings > Documents: invoice PDFs are Factur-X (PDF/A-3 with the EN 16931 XML inside).
    e_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class StaffUser(PublicIdMixin, Base):
    """A person of the business who works in the back office."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="owner")
    language: Mapped[str] = mapped_column(String(20), default="")  # the back office's; "" for the browser's
    time_zone: Mapped[str] = mapped_column(String(64), default="")  # "" for the business's
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class NumberSequence(Base):
    """The next number of a kind of document (invoice, receipt, credit note), taken under a row lock."""

    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("organization_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(20))
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
    width: Mapped[int] = mapped_column(Integer, default=5)
