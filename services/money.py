"""The one money type: integer minor units of an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies

DEFAULT_LOCALE = "en_US"


class CurrencyMismatch(ValueError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} and {right} amounts")
        self.left = left
        self.right = right


class UnknownCurrency(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency code {code!r}")
        self.code = code


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    """Return ``code`` if it is an ISO 4217 currency, else raise ``UnknownCurrency``."""
    if code not in _known_currencies():
        raise UnknownCurrency(code)
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return int(get_currency_precision(check_currency(currency)))


def round_half_up(value: Decimal) -> int:
    """Round to a whole number of minor units, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, order=False)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"minor units must be an int, not {type(self.minor).__name__}")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str, currency: str) -> Money:
        """Convert a major-unit amount (``"12.34"``), rounding half-up to the minor unit."""
        if isinstance(amount, float):
            # A float has already lost the decimal value (1.005 is 1.00499...), so it would round wrongly.
            raise TypeError("amounts are Decimal or str, never float")
        scaled = Decimal(amount).scaleb(exponent(currency))
        return cls(round_half_up(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def __str__(self) -> str:
        return format_money(self)


def format_money(money: Money, locale: str = DEFAULT_LOCALE) -> str:
    """The amount as people of ``locale`` write it, e.g. ``$1,234.50``, ``1.234,50 €``, ``¥1,235``."""
    return str(format_currency(money.to_decimal(), money.currency, locale=babel_locale(locale)))


@cache
def babel_locale(name: str) -> Locale:
    """Babel's locale for a name such as ``de_DE``; the default one for a name Babel does not know."""
    try:
        return Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def to_gateway_amount(money: Money) -> tuple[int, str]:
    """The (amount, currency) pair payment gateways expect: minor units and a lower-case code."""
    return money.minor, money.currency.lower()
