"""Line and document totals by the rounding rules: round once per line, half-up, discount before tax."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.money import Money, round_half_up

HUNDRED = Decimal(100)


class InvalidLine(ValueError):
    def __init__(self, position: int, field: str, problem: str) -> None:
        super().__init__(f"line {position}: {field} {problem}")
        self.position = position
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal = Decimal(0)
    tax_rate_percent: Decimal = Decimal(0)
    tax_name: str = ""


@dataclass(frozen=True)
class LineTotals:
    amount_minor: int  # round(quantity x unit price)
    discount_minor: int  # round(amount x discount rate)
    tax_minor: int  # round((amount - discount) x tax rate)

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class DocumentTotals:
    currency: str
    lines: tuple[LineTotals, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money


def line_totals(line: LineInput, position: int = 1) -> LineTotals:
    """The rounded amounts of one line. Raises ``InvalidLine`` for inputs no invoice can carry."""
    if not line.description.strip():
        raise InvalidLine(position, "description", "is empty")
    if not line.quantity.is_finite() or line.quantity <= 0:
        raise InvalidLine(position, "quantity", "must be more than zero")
    if line.unit_price_minor < 0:
        raise InvalidLine(position, "rate", "cannot be negative")
    # NaN is checked first: comparing it raises decimal.InvalidOperation instead of saying what is wrong.
    if not line.discount_percent.is_finite() or not (0 <= line.discount_percent <= HUNDRED):
        raise InvalidLine(position, "discount", "must be between 0 and 100 %")
    if not line.tax_rate_percent.is_finite() or not (0 <= line.tax_rate_percent <= HUNDRED):
        raise InvalidLine(position, "tax rate", "must be between 0 and 100 %")
    amount = round_half_up(line.quantity * line.unit_price_minor)
    discount = round_half_up(amount * line.discount_percent / HUNDRED)
    tax = round_half_up((amount - discount) * line.tax_rate_percent / HUNDRED)
    return LineTotals(amount, discount, tax)


def document_totals(lines: Sequence[LineInput], currency: str) -> DocumentTotals:
    """Totals of a document: each sum is the sum of the lines' rounded amounts, so they always agree."""
    computed = tuple(line_totals(line, position) for position, line in enumerate(lines, start=1))

    def total_of(values: Iterable[int]) -> Money:
        return Money(sum(values), currency)

    subtotal = total_of(t.amount_minor for t in computed)
    discount = total_of(t.discount_minor for t in computed)
    tax = total_of(t.tax_minor for t in computed)
    return DocumentTotals(currency, computed, subtotal, discount, tax, subtotal - discount + tax)


def line_columns(lines: Sequence[LineInput], totals: DocumentTotals) -> list[dict[str, Any]]:
    """Column values of stored line items: the inputs and the amounts computed from them."""
    return [
        {
            "position": position,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
            "discount_percent": line.discount_percent,
            "tax_name": line.tax_name,
            "tax_rate_percent": line.tax_rate_percent,
            "amount_minor": line_total.amount_minor,
            "discount_minor": line_total.discount_minor,
            "tax_minor": line_total.tax_minor,
        }
        for position, (line, line_total) in enumerate(zip(lines, totals.lines, strict=True), start=1)
    ]
