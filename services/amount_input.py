"""Numbers people type (amounts, quantities, percentages) read the way the page's locale writes them.

``1,50`` is one and a half in a German portal and a typing mistake in an American one, where it could
be 1.50 or 150: such a text is refused (``InvalidNumber`` with both readings) rather than guessed at, as
is a grouping the locale does not write (``1.23`` in German), more decimals than the field takes, a
sign, an exponent, NaN or anything but digits and the locale's separators. The locale's symbols and
group sizes come from Babel (CLDR), so ``1 234,50`` (French), ``1,23,456.50`` (Indian English) and
``1'234.50`` (Swiss German) are read as they are written. Any space stands for a grouping space and
the apostrophe for the typographic one (U+2019), since a keyboard types those only with effort. Digits
are ASCII: a locale whose numbers use other digits is read with the ASCII ones.

Every form that takes an amount or a quantity reads it here, and starts its field with
``amount_text``/``number_text`` so that what it shows is read back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from babel.numbers import get_currency_symbol

from services.amount_bounds import MAX_AMOUNT_MINOR
from services.errors import InvalidNumber
from services.money import Money, babel_locale, exponent, format_money

DIGITS = frozenset("0123456789")
SPACES = frozenset(" \u00a0\u2007\u2009\u202f")  # space, no-break, figure, thin, narrow no-break
APOSTROPHES = frozenset("'’")
MINUS_SIGNS = frozenset("-−‐‒–")
DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")  # Babel writes them around Arabic amounts
COMMON_SEPARATORS = frozenset(".,")
MAX_LENGTH = 40  # characters: more than any amount up to the bound takes, so longer text is refused unread


@dataclass(frozen=True)
class NumberStyle:
    """How a locale writes numbers: its decimal sign, its grouping sign and the sizes of its groups."""

    decimal: str
    group: str
    primary: int  # digits in the group before the decimal sign: 3
    secondary: int  # digits in each group before that: 3, or 2 in India (1,23,456)

    @property
    def group_signs(self) -> frozenset[str]:
        """The grouping sign and those people type for it."""
        for family in (SPACES, APOSTROPHES):
            if self.group in family:
                return family
        return frozenset(self.group)

    def write(self, whole: int, fraction: str = "") -> str:
        """``whole`` grouped the locale's way, then ``fraction`` after the decimal sign."""
        rest, groups = str(whole), list[str]()
        size = self.primary
        while len(rest) > size:
            groups.insert(0, rest[-size:])
            rest, size = rest[:-size], self.secondary
        text = self.group.join([rest, *groups])
        return f"{text}{self.decimal}{fraction}" if fraction else text


@cache
def number_style(locale: str) -> NumberStyle:
    """The style of ``locale`` (en_US when it is not a locale), in Latin digits."""
    parsed = babel_locale(locale)
    symbols = parsed.number_symbols["latn"]
    pattern = parsed.decimal_formats[None]
    primary, secondary = pattern.grouping
    return NumberStyle(str(symbols["decimal"]), str(symbols["group"]), int(primary), int(secondary))


def read_amount(text: str, currency: str, locale: str, *, field: str = "amount") -> Money:
    """The amount in ``text``, as written in ``locale``: ``"1.234,50"`` in de_DE is 1234.50.

    The currency's symbol or code may stand before or after the number. Zero is an amount (whether it
    may be paid is the caller's rule). Raises ``InvalidNumber`` for anything that is not one amount of
    ``currency`` without guessing, or that is above the bound of ``services.amount_bounds``.
    """
    style, places = number_style(locale), exponent(currency)

    def shown(value: Decimal) -> str:
        return format_money(Money.from_decimal(value, currency), locale)

    try:
        whole, fraction = _digits(_without_currency(_clean(text), currency, locale), style, places)
        minor = int(whole + fraction.ljust(places, "0"))
        if minor > MAX_AMOUNT_MINOR:
            raise _Unusable("too_large")
    except _Unusable as unusable:
        raise InvalidNumber(
            field,
            text.strip(),
            unusable.problem,
            example=amount_text(Money.from_decimal(EXAMPLE_AMOUNT, currency), locale),
            readings=tuple(shown(reading) for reading in unusable.readings),
            limit=format_money(Money(MAX_AMOUNT_MINOR, currency), locale),
            decimals=places,
            decimal_sign=style.decimal,
            currency=currency,
        ) from None
    return Money(minor, currency)


def read_number(text: str, locale: str, *, field: str, decimals: int, most: Decimal) -> Decimal:
    """The number (a quantity, a percentage) in ``text`` as written in ``locale``, with at most
    ``decimals`` decimals and at most ``most``; ``InvalidNumber`` otherwise."""
    style = number_style(locale)
    try:
        whole, fraction = _digits(_clean(text), style, decimals)
        value = Decimal(f"{whole}.{fraction}") if fraction else Decimal(whole)
        if value > most:
            raise _Unusable("too_large")
    except _Unusable as unusable:
        raise InvalidNumber(
            field,
            text.strip(),
            unusable.problem,
            example=number_text(EXAMPLE_NUMBER if decimals else Decimal(2), locale),
            readings=tuple(number_text(reading, locale) for reading in unusable.readings),
            limit=number_style(locale).write(int(most)),
            decimals=decimals,
            decimal_sign=style.decimal,
        ) from None
    return value


def amount_text(money: Money, locale: str) -> str:
    """The amount as a field shows it to be typed over: ``1.234,50`` in de_DE, without a symbol."""
    places = exponent(money.currency)
    whole, fraction = divmod(abs(money.minor), 10**places)
    text = number_style(locale).write(whole, str(fraction).rjust(places, "0") if places else "")
    return f"-{text}" if money.minor < 0 else text


def number_text(value: Decimal, locale: str) -> str:
    """A quantity or percentage as a field shows it: ``2,5`` in de_DE, without trailing zeros.

    Not grouped: a quantity may have three decimals, so "1,500" would read back as ambiguous.
    """
    whole, _, fraction = f"{abs(value).normalize():f}".partition(".")
    style = number_style(locale)
    text = f"{whole}{style.decimal}{fraction}" if fraction else whole
    return f"-{text}" if value < 0 else text


EXAMPLE_AMOUNT = Decimal("123456.5")  # shows both separators: 123,456.50, 123.456,50, 1,23,456.50
EXAMPLE_NUMBER = Decimal("2.5")


class _Unusable(Exception):
    """Why a text is not a number to use, and what it could have meant if it is ambiguous."""

    def __init__(self, problem: str, readings: tuple[Decimal, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.readings = readings


def _clean(text: str) -> str:
    return text.translate(DIRECTION_MARKS).strip("".join(SPACES) + "\t\n")


def _without_currency(text: str, currency: str, locale: str) -> str:
    """The number without the currency's symbol or code before or after it."""
    marks = {_clean(str(get_currency_symbol(currency, locale=babel_locale(locale)))), currency}
    for mark in sorted(marks, key=len, reverse=True):
        if text.upper().startswith(mark.upper()):
            return _clean(text[len(mark) :])
        if text.upper().endswith(mark.upper()):
            return _clean(text[: -len(mark)])
    return text


def _digits(text: str, style: NumberStyle, places: int) -> tuple[str, str]:
    """The whole and the fraction digits of ``text``; ``_Unusable`` says why there are none to use."""
    if not text:
        raise _Unusable("empty")
    if len(text) > MAX_LENGTH:
        raise _Unusable(
            "too_large" if set(text) <= DIGITS | style.group_signs | {style.decimal} else "not_a_number"
        )
    if any(char in MINUS_SIGNS for char in text) and any(char in DIGITS for char in text):
        raise _Unusable("negative")
    if not set(text) <= DIGITS | style.group_signs | {style.decimal}:
        raise _unclear(text, style, places)
    whole, has_fraction, fraction = text.partition(style.decimal)
    if has_fraction and (not fraction or not set(fraction) <= DIGITS):
        raise _Unusable("not_a_number")  # "1.5.2", "3.", a group sign after the decimal sign
    parts = _split(whole, style.group_signs)
    if not _well_grouped(parts, style, allow_empty=bool(has_fraction)):
        raise _unclear(text, style, places)
    if not has_fraction and places >= 3 and len(parts) == 2 and set(text) & COMMON_SEPARATORS:
        # "1,500" in en_US or "1.500" in de_DE where three decimals are allowed (dinars, quantities):
        # a thousand and a half grouped, or one and a half with three decimals? Both are well formed.
        raise _Unusable("ambiguous", (Decimal(f"{parts[0]}.{parts[1]}"), Decimal(parts[0] + parts[1])))
    if len(fraction) > places:
        raise _Unusable("decimals")
    return "".join(parts) or "0", fraction


def _split(whole: str, signs: frozenset[str]) -> list[str]:
    parts = [whole]
    for sign in signs:
        parts = [piece for part in parts for piece in part.split(sign)]
    return parts


def _well_grouped(parts: list[str], style: NumberStyle, *, allow_empty: bool) -> bool:
    if len(parts) == 1:
        return set(parts[0]) <= DIGITS and (allow_empty or bool(parts[0]))  # ",50" is half a unit
    first, *middle, last = parts
    return (
        all(set(part) <= DIGITS for part in parts)
        and len(last) == style.primary
        and all(len(part) == style.secondary for part in middle)
        and 1 <= len(first) <= style.secondary
    )


def _unclear(text: str, style: NumberStyle, places: int) -> _Unusable:
    """Not a number here; ``ambiguous`` when one "." or "," could group thousands or mark decimals
    ("1,50" in en_US, "1.23" in de_DE, "1.50" in fr_FR), with both readings."""
    separators = [char for char in text if char not in DIGITS]
    if len(separators) == 1 and separators[0] in COMMON_SEPARATORS and separators[0] != style.decimal:
        whole, _, fraction = text.partition(separators[0])
        if whole and 0 < len(fraction) <= places:
            return _Unusable("ambiguous", (Decimal(f"{whole}.{fraction}"), Decimal(whole + fraction)))
    return _Unusable("not_a_number")
