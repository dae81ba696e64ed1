"""What the owner sets in the back office beyond the business's profile: tax rates and integrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PublicIdMixin
from models.sealed import SealedString


class TaxRate(PublicIdMixin, Base):
    """A named tax rate offered in the invoice editor; one may be the default for new lines."""

    __tablename__ = "tax_rates"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    rate_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class IntegrationSettings(Base):
    """The payment gateway and SMTP server the owner chose in Settings; one row per business.

    An empty row (or none) means the environment's ``PORTAL_*`` settings apply. The Stripe secret key,
    the webhook secret and the SMTP password are stored sealed (``models.sealed``).
    """

    __tablename__ = "integration_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    gateway: Mapped[str] = mapped_column(String(20), default="")  # "" (environment), "sandbox", "stripe"
    stripe_secret_key: Mapped[str] = mapped_column(SealedString(2048), default="")
    stripe_publishable_key: Mapped[str] = mapped_column(String(255), default="")
    stripe_webhook_secret: Mapped[str] = mapped_column(SealedString(2048), default="")
    smtp_host: Mapped[str] = mapped_column(String(255), default="")  # "" means the environment's
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_user: Mapped[str] = mapped_column(String(255), default="")
    smtp_password: Mapped[str] = mapped_column(SealedString(2048), default="")
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_from: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
