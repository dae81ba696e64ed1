"""A card's details as people type them: the expiry in any of the usual ways, the number in groups."""

from __future__ import annotations

import re

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


def group_card_number(text: str) -> str:
    """The digits typed so far in groups of four ("4242 4242 4242 4242"); American Express's 15 digits
    as it prints them (4-6-5). Anything but digits and spaces is left as typed, for the gateway to name."""
    digits = text.replace(" ", "")
    if not digits.isdecimal():
        return text
    if digits.startswith(("34", "37")):
        return " ".join(part for part in (digits[:4], digits[4:10], digits[10:]) if part)
    return " ".join(digits[index : index + 4] for index in range(0, len(digits), 4))


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
