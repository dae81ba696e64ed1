"""A card's details as people type them: the expiry in any of the usual ways, the number in groups."""

from __future__ import annotations

import re

from services.i18n import N_

EXPIRY_UNREADABLE = N_("Enter the expiry as month and year, for example 12/29.")
_SEPARATED = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{2}|\d{4})$")
_RUN_TOGETHER = re.compile(r"^(\d{2})(\d{2}|\d{4})$")  # "1229", "122029": the month always has two digits


def read_expiry(text: str) -> tuple[int, int]:
    """Month and year of an expiry typed as "12/29", "12 / 2029", "1229", "122029" or "12-29".

    (0, 0) where it cannot be read, for the gateway to refuse with its message. Digits of any script
    read (``\\d`` and ``int`` take every decimal digit); "²" and other non-decimal digits do not.
    """
    typed = text.strip()
    found = _SEPARATED.match(typed) or _RUN_TOGETHER.match(typed.replace(" ", ""))
    if found is None:
        return 0, 0
    month, year = found.groups()
    return int(month), int(year) + (2000 if len(year) == 2 else 0)


def expiry_text(month: int, year: int) -> str:
    """An expiry as the card prints it: "12/29"."""
    return f"{month:02d}/{year % 100:02d}"


def number_groups(text: str) -> tuple[int, ...]:
    """How many digits each group of the card's number holds, as the card prints it: American
    Express's 15 digits 4-6-5, every other brand's up to 19 in fours."""
    if text.replace(" ", "").startswith(("34", "37")):
        return (4, 6, 5)
    return (4, 4, 4, 4, 3)


def group_card_number(text: str) -> str:
    """The digits typed so far in groups as the card prints them (``number_groups``): "4242 4242 4242
    4242", "3782 822463 10005". Anything but digits and spaces is left as typed, for the gateway to name."""
    digits = text.replace(" ", "")
    if not digits.isdecimal():
        return text
    parts, start = [], 0
    for size in number_groups(digits):
        parts.append(digits[start : start + size])
        start += size
    return " ".join(part for part in [*parts, digits[start:]] if part)


def card_brand(text: str) -> str:
    """The brand a card number starts like, as far as typed: "Visa", "Mastercard", "American Express",
    "Discover"; "" while it cannot be told."""
    digits = text.replace(" ", "")
    if not digits.isdecimal():
        return ""
    if digits.startswith("4"):
        return "Visa"
    if digits.startswith(("34", "37")):
        return "American Express"
    if digits.startswith(("6011", "65")) or _between(digits, 644, 649, 3):
        return "Discover"
    if _between(digits, 51, 55, 2) or _between(digits, 2221, 2720, 4):
        return "Mastercard"
    return ""


def _between(digits: str, low: int, high: int, width: int) -> bool:
    return len(digits) >= width and low <= int(digits[:width]) <= high
