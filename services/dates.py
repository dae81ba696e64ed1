"""Dates as people of a locale write them."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from services.money import babel_locale


def format_day(value: date | datetime, locale: str = "en_US") -> str:
    """``Jul 22, 2026`` in en_US, ``22.07.2026`` in de_DE."""
    day = value.date() if isinstance(value, datetime) else value
    return str(format_date(day, "medium", locale=babel_locale(locale)))
