"""Line and document totals: round once per line, half-up; discount before tax; totals are line sums."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.money import Money
from services.totals import InvalidLine, LineInput, LineTotals, document_totals, line_columns, line_totals


def line(
    quantity: str,
    unit_price_minor: int,
    *,
    discount: str = "0",
    tax: str = "0",
    description: str = "Consulting",
) -> LineInput:
    return LineInput(description, Decimal(quantity), unit_price_minor, Decimal(discount), Decimal(tax), "VAT")


# --- one line ------------------------------------------------------------------------------------


def test_line_amount_is_quantity_times_unit_price() -> None:
    assert line_totals(line("3", 1250)) == LineTotals(amount_minor=3750, discount_minor=0, tax_minor=0)


def test_line_amount_rounds_a_half_minor_unit_up() -> None:
    # 0.333 x 15.00 = 4.995 -> 5.00
    assert line_totals(line("0.333", 1500)).amount_minor == 500
    # 1.5 x 3.33 = 4.995 -> 5.00
    assert line_totals(line("1.5", 333)).amount_minor == 500
    # 0.5 x 0.01 = 0.005 -> 0.01
    assert line_totals(line("0.5", 1)).amount_minor == 1


def test_line_amount_rounds_less_than_half_down() -> None:
    # 0.3331 x 10.00 = 3.331 -> 3.33; 0.0049 x 1.00 = 0.0049 -> 0.00
    assert line_totals(line("0.3331", 1000)).amount_minor == 333
    assert line_totals(line("0.0049", 100)).amount_minor == 0


def test_tax_of_a_line_rounds_half_up() -> None:
    # 19 % of 2.50 = 0.475 -> 0.48
    assert line_totals(line("1", 250, tax="19")).tax_minor == 48
    # 19 % of 2.49 = 0.4731 -> 0.47
    assert line_totals(line("1", 249, tax="19")).tax_minor == 47


def test_discount_is_taken_before_tax() -> None:
    # 19.99, 2.5 % discount = 0.49975 -> 0.50; tax 19 % of 19.49 = 3.7031 -> 3.70
    totals = line_totals(line("1", 1999, discount="2.5", tax="19"))
    assert totals == LineTotals(amount_minor=1999, discount_minor=50, tax_minor=370)
    assert totals.net_minor == 1999 - 50 + 370


def test_full_discount_leaves_nothing_to_tax() -> None:
    assert line_totals(line("2", 500, discount="100", tax="19")) == LineTotals(1000, 1000, 0)


def test_zero_decimal_currency_line_rounds_to_whole_yen() -> None:
    # JPY has no minor unit: 3 x 333 = 999; 10 % tax = 99.9 -> 100
    assert line_totals(line("3", 333, tax="10")) == LineTotals(999, 0, 100)


# --- a document ----------------------------------------------------------------------------------


def test_document_rounds_each_line_not_the_sum() -> None:
    # Three lines of 0.333 x 15.00 = 4.995 each: 5.00 each, 15.00 in all (not round(14.985) = 14.99).
    totals = document_totals([line("0.333", 1500)] * 3, "USD")
    assert [t.amount_minor for t in totals.lines] == [500, 500, 500]
    assert totals.subtotal == Money(1500, "USD")
    assert totals.total == Money(1500, "USD")


def test_document_tax_is_the_sum_of_each_line_rounded_tax() -> None:
    # 19 % of 10.50 = 1.995 -> 2.00 per line: 4.00 tax, not round(19 % of 21.00) = 3.99.
    totals = document_totals([line("1", 1050, tax="19"), line("1", 1050, tax="19")], "EUR")
    assert [t.tax_minor for t in totals.lines] == [200, 200]
    assert totals.tax == Money(400, "EUR")
    assert totals.total == Money(2500, "EUR")


def test_document_totals_of_a_mixed_invoice() -> None:
    totals = document_totals(
        [
            line("1", 1999, discount="2.5", tax="19"),  # 19.99 - 0.50 + 3.70
            line("0.333", 1500, tax="7"),  # 5.00 + 0.35
            line("12", 4250),  # 510.00, no tax
        ],
        "USD",
    )
    assert totals.currency == "USD"
    assert totals.subtotal == Money(1999 + 500 + 51000, "USD")
    assert totals.discount == Money(50, "USD")
    assert totals.tax == Money(370 + 35, "USD")
    assert totals.total == Money(1999 - 50 + 370 + 500 + 35 + 51000, "USD")


def test_kuwaiti_dinar_document_keeps_three_decimals() -> None:
    # 1.235 KWD at 5 % = 0.06175 -> 0.062; 1.5 x 0.333 = 0.4995 -> 0.500
    totals = document_totals([line("1", 1235, tax="5"), line("1.5", 333)], "KWD")
    assert totals.tax == Money(62, "KWD")
    assert totals.subtotal == Money(1235 + 500, "KWD")
    assert totals.total == Money(1235 + 62 + 500, "KWD")


def test_line_columns_store_the_inputs_with_the_amounts_computed_from_them() -> None:
    lines = [line("1", 1999, discount="2.5", tax="19"), line("0.333", 1500, description="Hosting")]
    columns = line_columns(lines, document_totals(lines, "USD"))
    assert [c["position"] for c in columns] == [1, 2]
    assert columns[0] == {
        "position": 1,
        "description": "Consulting",
        "quantity": Decimal("1"),
        "unit_price_minor": 1999,
        "discount_percent": Decimal("2.5"),
        "tax_name": "VAT",
        "tax_rate_percent": Decimal("19"),
        "amount_minor": 1999,
        "discount_minor": 50,
        "tax_minor": 370,
    }
    assert (columns[1]["description"], columns[1]["amount_minor"]) == ("Hosting", 500)


# --- lines no invoice can carry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (line("1", 100, description=""), "description"),
        (line("1", 100, description="   "), "description"),
        (line("0", 100), "quantity"),
        (line("-1", 100), "quantity"),
        (line("NaN", 100), "quantity"),
        (line("Infinity", 100), "quantity"),
        (line("1", -1), "rate"),
        (line("1", 100, discount="-0.01"), "discount"),
        (line("1", 100, discount="100.01"), "discount"),
        (line("1", 100, discount="NaN"), "discount"),
        (line("1", 100, tax="-1"), "tax rate"),
        (line("1", 100, tax="101"), "tax rate"),
        (line("1", 100, tax="NaN"), "tax rate"),
        (line("1", 100, tax="Infinity"), "tax rate"),
    ],
)
def test_invalid_line_is_refused_naming_its_position_and_field(bad: LineInput, field: str) -> None:
    with pytest.raises(InvalidLine) as raised:
        document_totals([line("1", 100), bad], "USD")
    assert (raised.value.position, raised.value.field) == (2, field)


def test_free_line_and_edge_percentages_are_accepted() -> None:
    assert line_totals(line("1", 0)) == LineTotals(0, 0, 0)
    assert line_totals(line("1", 1000, discount="0", tax="100")) == LineTotals(1000, 0, 1000)


# --- properties ----------------------------------------------------------------------------------

# Properties of arithmetic, not of speed: a busy machine must not fail them on the default deadline.
no_deadline = settings(deadline=None)


def half_up(value: Fraction) -> int:
    """Independent reference rounding for non-negative values: halves go up."""
    return math.floor(value + Fraction(1, 2))


percentages = st.decimals(min_value=0, max_value=100, places=2)
line_inputs = st.builds(
    LineInput,
    description=st.just("Item"),
    quantity=st.decimals(min_value=Decimal("0.0001"), max_value=10_000, places=4),
    unit_price_minor=st.integers(min_value=0, max_value=10**9),
    discount_percent=percentages,
    tax_rate_percent=percentages,
)


@no_deadline
@given(lines=st.lists(line_inputs, min_size=1, max_size=8), currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_document_totals_are_the_sums_of_the_rounded_lines(lines: list[LineInput], currency: str) -> None:
    totals = document_totals(lines, currency)
    for given_line, computed in zip(lines, totals.lines, strict=True):
        amount = half_up(Fraction(given_line.quantity) * given_line.unit_price_minor)
        discount = half_up(amount * Fraction(given_line.discount_percent) / 100)
        tax = half_up((amount - discount) * Fraction(given_line.tax_rate_percent) / 100)
        assert computed == LineTotals(amount, discount, tax)
        assert 0 <= computed.discount_minor <= computed.amount_minor
        assert computed.tax_minor >= 0
    assert totals.subtotal == Money(sum(t.amount_minor for t in totals.lines), currency)
    assert totals.discount == Money(sum(t.discount_minor for t in totals.lines), currency)
    assert totals.tax == Money(sum(t.tax_minor for t in totals.lines), currency)
    assert totals.total == totals.subtotal - totals.discount + totals.tax
    assert totals.total == Money(sum(t.net_minor for t in totals.lines), currency)
