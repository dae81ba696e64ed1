"""Columns shared by the line items of invoices and credit notes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class LineColumns:
    """Inputs of a line, and the amounts the totals service computed from them (stored, never re-derived)."""

    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    tax_name: Mapped[str] = mapped_column(String(50), default="")
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)


class TotalsColumns:
    """A document's totals: the sums of its lines' rounded amounts."""

    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
