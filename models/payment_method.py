"""Cards and bank accounts a client saved at the gateway. Only the gateway's ids and display facts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
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
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
