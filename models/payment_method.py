"""Cards and bank accounts a client saved at the gateway. Only the gateway's ids and display facts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import AddressMixin, Base, PublicIdMixin


class SavedPaymentMethod(PublicIdMixin, AddressMixin, Base):
    __tablename__ = "saved_payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_customer_id: Mapped[str] = mapped_column(String(100), default="")
    gateway_method_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # card | bank_account
    brand: Mapped[str] = mapped_column(String(40), default="")  # card brand or bank name
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer, default=None)
    exp_year: Mapped[int | None] = mapped_column(Integer, default=None)
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class GatewayCustomer(Base):
    """A client's customer record at a gateway (a Stripe Customer), which its saved methods belong to."""

    __tablename__ = "gateway_customers"
    __table_args__ = (UniqueConstraint("client_id", "gateway"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    gateway: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
