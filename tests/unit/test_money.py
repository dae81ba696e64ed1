"""Money: integer minor units of one currency, never a float, rounded half-up, formatted per locale."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.money import (
    CurrencyMismatch,
    Money,
    UnknownCurrency,
    exponent,
    format_money,
    to_gateway_amount,
)

NBSP = "\xa0"


# --- construction ----------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [1.0, 12.5, Decimal("12"), "12", None, True])
def test_money_refuses_anything_but_an_int_of_minor_units(minor: Any) -> None:
    with pytest.raises(TypeError):
        Money(minor, "USD")


@pytest.mark.parametrize("code", ["ABC", "usd", "", "DOLLAR"])
def test_money_refuses_an_unknown_currency(code: str) -> None:
    with pytest.raises(UnknownCurrency) as raised:
        Money(100, code)
    assert raised.value.code == code


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)])
def test_exponent_is_the_digits_of_the_currency_minor_unit(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


def test_exponent_of_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        exponent("XYZ1")


# --- arithmetic ----------------------------------------------------------------------------------


def test_adding_and_subtracting_amounts_of_one_currency() -> None:
    assert Money(1050, "USD") + Money(250, "USD") == Money(1300, "USD")
    assert Money(1050, "USD") - Money(2000, "USD") == Money(-950, "USD")
    assert -Money(7, "KWD") == Money(-7, "KWD")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge"],
)
def test_arithmetic_refuses_mixed_currencies(operation: Any) -> None:
    with pytest.raises(CurrencyMismatch) as raised:
        operation(Money(100, "USD"), Money(100, "EUR"))
    assert (raised.value.left, raised.value.right) == ("USD", "EUR")


@pytest.mark.parametrize("other", [1, 1.5, Decimal(1)])
def test_arithmetic_refuses_plain_numbers(other: Any) -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") + other


def test_amounts_of_different_currencies_are_never_equal() -> None:
    assert Money(100, "USD") != Money(100, "EUR")


def test_comparisons_order_amounts_of_one_currency() -> None:
    assert Money(99, "USD") < Money(100, "USD") <= Money(100, "USD")
    assert Money(101, "USD") > Money(100, "USD") >= Money(100, "USD")


def test_only_zero_is_falsy() -> None:
    assert not Money.zero("USD")
    assert Money(-1, "USD")
    assert Money(1, "JPY")


# --- decimal conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("0.005", "USD", 1),  # a half rounds up
        ("0.00499", "USD", 0),
        ("2.675", "USD", 268),
        ("-0.005", "USD", -1),  # a negative half rounds away from zero
        ("-2.675", "USD", -268),
        ("-0.0049", "USD", 0),
        ("1234.5", "JPY", 1235),
        ("-1234.5", "JPY", -1235),
        ("1234.4", "JPY", 1234),
        ("1.2345", "KWD", 1235),
        ("1.2344", "KWD", 1234),
        ("0.001", "KWD", 1),
        (Decimal("19.99"), "EUR", 1999),
    ],
)
def test_from_decimal_rounds_half_up_to_the_minor_unit(
    amount: Decimal | str, currency: str, minor: int
) -> None:
    assert Money.from_decimal(amount, currency) == Money(minor, currency)


def test_from_decimal_refuses_a_float() -> None:
    # 1.005 is 1.00499999... in binary: accepting floats would silently round it down.
    with pytest.raises(TypeError):
        Money.from_decimal(1.005, "USD")  # type: ignore[arg-type]


def test_from_decimal_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        Money.from_decimal("1.00", "XXY")


@pytest.mark.parametrize(
    ("money", "decimal"),
    [
        (Money(1234, "USD"), Decimal("12.34")),
        (Money(1234, "JPY"), Decimal("1234")),
        (Money(1234, "KWD"), Decimal("1.234")),
        (Money(-5, "USD"), Decimal("-0.05")),
    ],
)
def test_to_decimal_is_the_amount_in_major_units(money: Money, decimal: Decimal) -> None:
    assert money.to_decimal() == decimal


def test_gateway_amount_is_minor_units_and_a_lower_case_code() -> None:
    assert to_gateway_amount(Money(1999, "EUR")) == (1999, "eur")
    assert to_gateway_amount(Money(500, "JPY")) == (500, "jpy")


# --- formatting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "text"),
    [
        (Money(123450, "USD"), "en_US", "$1,234.50"),
        (Money(5, "USD"), "en_US", "$0.05"),
        (Money(-5, "USD"), "en_US", "-$0.05"),
        (Money(123450, "EUR"), "de_DE", f"1.234,50{NBSP}€"),
        (Money(123450, "USD"), "de_DE", f"1.234,50{NBSP}$"),
        (Money(1235, "JPY"), "en_US", "¥1,235"),
        (Money(1234567, "KWD"), "en_US", "KWD1,234.567"),
        (Money(1000, "KWD"), "en_US", "KWD1.000"),
    ],
)
def test_format_money_writes_the_amount_as_the_locale_does(money: Money, locale: str, text: str) -> None:
    assert format_money(money, locale) == text


def test_format_money_shows_every_digit_of_the_minor_unit_and_no_more() -> None:
    assert format_money(Money(100, "JPY")) == "¥100"
    assert format_money(Money(100, "USD")) == "$1.00"
    assert format_money(Money(100, "KWD")) == "KWD0.100"


def test_format_money_falls_back_to_en_us_for_an_unknown_locale() -> None:
    assert format_money(Money(123450, "USD"), "xx_YY") == "$1,234.50"


def test_str_of_money_is_its_en_us_format() -> None:
    assert str(Money(99, "USD")) == "$0.99"


# --- properties ----------------------------------------------------------------------------------

# Properties of arithmetic, not of speed: a busy machine must not fail them on the default deadline.
no_deadline = settings(deadline=None)

currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "BHD", "CHF"])
minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@no_deadline
@given(minor=minor_units, currency=currencies)
def test_from_decimal_of_to_decimal_is_the_same_amount(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.from_decimal(money.to_decimal(), currency) == money
    assert Money.from_decimal(str(money.to_decimal()), currency) == money


@no_deadline
@given(a=minor_units, b=minor_units, c=minor_units, currency=currencies)
def test_addition_is_associative_and_commutative(a: int, b: int, c: int, currency: str) -> None:
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert x + y - y == x


@no_deadline
@given(
    major=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6),
    currency=currencies,
)
def test_from_decimal_is_never_more_than_half_a_minor_unit_off(major: Decimal, currency: str) -> None:
    money = Money.from_decimal(major, currency)
    error = abs(money.to_decimal() - major) * Decimal(10) ** exponent(currency)
    assert error <= Decimal("0.5")
    # a half is always rounded away from zero
    if error == Decimal("0.5"):
        assert abs(money.to_decimal()) > abs(major)
