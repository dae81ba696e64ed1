"""Numbers people type, read the way the page's locale writes them, or refused with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.amount_bounds import MAX_AMOUNT_MINOR
from services.amount_input import amount_text, number_text, read_amount, read_number
from services.errors import InvalidNumber, human_message
from services.money import Money, format_money

NNBSP = "\u202f"  # French groups thousands with a narrow no-break space
LOCALES = ("en_US", "de_DE", "fr_FR", "en_IN", "de_CH")


def refusal(text: str, currency: str, locale: str) -> InvalidNumber:
    with pytest.raises(InvalidNumber) as refused:
        read_amount(text, currency, locale)
    return refused.value


@pytest.mark.parametrize(
    ("locale", "text", "minor"),
    [
        ("en_US", "1.50", 150),
        ("en_US", "1,234.50", 123450),
        ("en_US", "1,505", 150500),  # grouped the American way: one thousand five hundred and five
        ("en_US", "$1,234,567.89", 123456789),
        ("en_US", " 12 ", 1200),
        ("en_US", ".5", 50),
        ("en_US", "0", 0),
        ("de_DE", "1,50", 150),
        ("de_DE", "1.234", 123400),  # grouped the German way: one thousand two hundred and thirty-four
        ("de_DE", "1.234.567,89", 123456789),
        ("de_DE", "1234,5", 123450),
        ("de_DE", "1.234,50 $", 123450),
        ("fr_FR", "1,50", 150),
        ("fr_FR", f"1{NNBSP}234,50", 123450),
        ("fr_FR", "1 234,50", 123450),  # the space a keyboard types stands for the narrow one
        ("fr_FR", "1\u00a0234\u00a0567,89\u00a0$US", 123456789),
        ("en_IN", "1,23,456.50", 12345650),
        ("en_IN", "12,345.50", 1234550),
        ("de_CH", "1'234.50", 123450),
        ("de_CH", "1’234.50", 123450),
        ("de_CH", "1234.50", 123450),
    ],
)
def test_an_amount_is_read_as_the_locale_writes_it(locale: str, text: str, minor: int) -> None:
    assert read_amount(text, "USD", locale) == Money(minor, "USD")


@pytest.mark.parametrize(
    ("locale", "text", "readings"),
    [
        ("en_US", "1,50", ("$1.50", "$150.00")),
        ("en_US", "12,5", ("$12.50", "$125.00")),
        ("de_DE", "1.23", ("1,23\xa0$", "123,00\xa0$")),
        ("fr_FR", "1.50", ("1,50\xa0$US", "150,00\xa0$US")),
        ("de_CH", "1,50", ("$\xa01.50", "$\xa0150.00")),
    ],
)
def test_one_separator_that_could_group_or_mark_decimals_is_ambiguous(
    locale: str, text: str, readings: tuple[str, str]
) -> None:
    refused = refusal(text, "USD", locale)
    assert (refused.problem, refused.readings) == ("ambiguous", readings)
    assert human_message(refused).startswith(f"“{text}” could mean {readings[0]} or {readings[1]}")


@pytest.mark.parametrize(("locale", "text"), [("en_US", "1,500"), ("de_DE", "1.500"), ("en_US", "12,345")])
def test_one_group_of_three_is_ambiguous_where_three_decimals_are_allowed(locale: str, text: str) -> None:
    whole, _, fraction = text.replace(".", ",").partition(",")
    refused = refusal(
        text, "KWD", locale
    )  # dinars have three decimals: a thousand and a half, or one and a half?
    assert refused.problem == "ambiguous"
    assert refused.readings == (
        format_money(Money(int(whole + fraction), "KWD"), locale),
        format_money(Money(int(whole + fraction) * 1000, "KWD"), locale),
    )
    with pytest.raises(InvalidNumber) as quantity:  # quantities have up to four decimals
        read_number(text, locale, field="quantity", decimals=4, most=Decimal(10**9))
    assert quantity.value.problem == "ambiguous"
    assert read_amount(text, "USD", locale) == Money(int(whole + fraction) * 100, "USD")  # two: not ambiguous
    assert (
        read_amount(f"{text}{'.' if locale == 'en_US' else ','}000", "KWD", locale).minor
        == int(whole + fraction) * 1000
    )


def test_the_ambiguity_message_says_how_the_locale_writes_amounts() -> None:
    assert human_message(refusal("1,50", "USD", "en_US")) == (
        "“1,50” could mean $1.50 or $150.00, so it was not used. Here “.” marks the decimals, as in "
        "123,456.50."
    )
    assert human_message(refusal("1.23", "EUR", "de_DE")).endswith("as in 123.456,50.")


@pytest.mark.parametrize(
    ("locale", "currency", "text", "problem", "message"),
    [
        ("en_US", "USD", "", "empty", "Enter the amount."),
        ("en_US", "USD", "   ", "empty", "Enter the amount."),
        ("en_US", "USD", "-5", "negative", "The amount cannot be negative."),
        ("de_DE", "EUR", "−1,50", "negative", "The amount cannot be negative."),
        ("en_US", "USD", "1.005", "decimals", "Amounts in USD have at most 2 decimals."),
        ("de_DE", "EUR", "1,505", "decimals", "Amounts in EUR have at most 2 decimals."),
        ("en_US", "JPY", "1.5", "decimals", "Amounts in JPY are whole numbers: type the amount without “.”."),
        ("en_US", "KWD", "1.2345", "decimals", "Amounts in KWD have at most 3 decimals."),
        ("en_US", "USD", "NaN", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "Infinity", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "1e5", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "+5", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "twelve", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "12,34,567", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "1 234.50", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "1.2.3", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "3.", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("en_US", "USD", "1,234,5", "not_a_number", "Enter the amount as a number, like 123,456.50."),
        ("de_DE", "EUR", "1.234.5", "not_a_number", "Enter the amount as a number, like 123.456,50."),
        ("de_DE", "EUR", "1,234.50", "not_a_number", "Enter the amount as a number, like 123.456,50."),
        ("en_IN", "INR", "123,456.50", "not_a_number", "Enter the amount as a number, like 1,23,456.50."),
        ("fr_FR", "EUR", "1.234", "not_a_number", f"Enter the amount as a number, like 123{NNBSP}456,50."),
        ("en_US", "EUR", "$5", "not_a_number", "Enter the amount as a number, like 123,456.50."),
    ],
)
def test_what_cannot_be_read_without_guessing_is_refused_with_its_reason(
    locale: str, currency: str, text: str, problem: str, message: str
) -> None:
    refused = refusal(text, currency, locale)
    assert (refused.problem, human_message(refused)) == (problem, message)


def test_an_amount_above_the_bound_is_refused_naming_the_bound() -> None:
    most = Money(MAX_AMOUNT_MINOR, "USD")
    assert read_amount("100,000,000,000.00", "USD", "en_US") == most
    refused = refusal("100,000,000,000.01", "USD", "en_US")
    assert human_message(refused) == "The amount can be at most $100,000,000,000.00."
    assert refusal("9" * 500, "USD", "en_US").problem == "too_large"


def test_the_field_is_named_in_the_message() -> None:
    with pytest.raises(InvalidNumber) as refused:
        read_amount("1,50", "USD", "en_US", field="rate")
    assert refused.value.field == "rate"
    with pytest.raises(InvalidNumber) as refused:
        read_amount("", "USD", "en_US", field="amount for INV-00012")
    assert human_message(refused.value) == "Enter the amount for INV-00012."


@pytest.mark.parametrize(
    ("locale", "text", "value"),
    [("en_US", "2.5", Decimal("2.5")), ("de_DE", "2,5", Decimal("2.5")),
     ("de_DE", "1.000,5", Decimal("1000.5")), ("fr_FR", "0,0001", Decimal("0.0001")),
     ("en_IN", "1,00,000", Decimal(100000))],
)  # fmt: skip
def test_quantities_and_percentages_are_read_as_the_locale_writes_them(
    locale: str, text: str, value: Decimal
) -> None:
    assert read_number(text, locale, field="quantity", decimals=4, most=Decimal(10**9)) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [("2.5", "“2.5” could mean 2,5 or 25, so it was not used. Here “,” marks the decimals, as in 2,5."),
     ("0,00001", "Enter the quantity with at most 4 decimals."),
     ("1.000.000.001", "The quantity can be at most 1.000.000.000."),
     ("-1", "The quantity cannot be negative.")],
)  # fmt: skip
def test_a_quantity_that_cannot_be_used_says_why(text: str, message: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        read_number(text, "de_DE", field="quantity", decimals=4, most=Decimal(10**9))
    assert human_message(refused.value) == message


def test_fields_start_with_text_their_locale_reads_back() -> None:
    assert amount_text(Money(123456789, "EUR"), "de_DE") == "1.234.567,89"
    assert amount_text(Money(123456789, "EUR"), "fr_FR") == f"1{NNBSP}234{NNBSP}567,89"
    assert amount_text(Money(123456789, "INR"), "en_IN") == "12,34,567.89"
    assert amount_text(Money(1234, "JPY"), "en_US") == "1,234"
    assert amount_text(Money(5, "KWD"), "de_DE") == "0,005"
    assert (number_text(Decimal("2.50"), "de_DE"), number_text(Decimal(1000), "de_DE")) == ("2,5", "1000")


CURRENCIES = ("JPY", "USD", "KWD")  # exponents 0, 2 and 3
amounts = st.builds(Money, st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR), st.sampled_from(CURRENCIES))


# Not de_CH: Babel takes pairs of its apostrophes for quotes and drops them (1'234'567 comes out 1234567,
# 1'000'000'000 as 1000000'000), so its output there is not the locale's grouping.
@given(amount=amounts, locale=st.sampled_from(("en_US", "de_DE", "fr_FR", "en_IN")))
def test_an_amount_formatted_in_a_locale_reads_back_as_the_same_amount(amount: Money, locale: str) -> None:
    assert read_amount(format_money(amount, locale), amount.currency, locale) == amount


@given(amount=amounts, locale=st.sampled_from(LOCALES))
def test_an_amount_shown_in_a_field_reads_back_as_the_same_amount(amount: Money, locale: str) -> None:
    assert read_amount(amount_text(amount, locale), amount.currency, locale) == amount


@given(
    value=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    locale=st.sampled_from(LOCALES),
)
def test_a_quantity_shown_in_a_field_reads_back_as_the_same_quantity(value: Decimal, locale: str) -> None:
    text = number_text(value, locale)
    assert read_number(text, locale, field="quantity", decimals=4, most=Decimal(10**9)) == value
