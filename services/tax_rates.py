"""The business's named tax rates: offered in the invoice editor, managed in Settings > Documents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from models import TaxRate
from services.database import Database


@dataclass(frozen=True)
class TaxRateView:
    public_id: str
    name: str
    rate_percent: Decimal
    is_default: bool

    @property
    def label(self) -> str:
        """"VAT 20 %": the name with the rate, for pickers and tables."""
        return f"{self.name} {self.rate_percent.normalize():f} %"


def list_tax_rates(db: Database, organization_id: int) -> list[TaxRateView]:
    """The rates by name; the default (if any) is marked."""
    with db.reading() as session:
        rows = session.scalars(
            select(TaxRate).where(TaxRate.organization_id == organization_id).order_by(TaxRate.name)
        ).all()
        return [TaxRateView(row.public_id, row.name, row.rate_percent, row.is_default) for row in rows]
