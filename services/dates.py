"""Dates and moments as people of a locale write them, moments in the reader's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_time

from services.i18n import current_time_zone, formatting_locale
from services.money import babel_locale


def format_day(value: date | datetime, locale: str = "en_US") -> str:
    """``Jul 22, 2026`` in en_US, ``22.07.2026`` in de_DE; a moment's day in the reader's time zone."""
    day = in_time_zone(value).date() if isinstance(value, datetime) else value
    return str(format_date(day, "medium", locale=babel_locale(locale)))


def format_moment(value: datetime, locale: str | None = None, time_zone: str | None = None) -> str:
    """A moment in the reader's time zone and locale: ``Jul 22, 2026, 2:05 PM`` (stored as UTC)."""
    local = in_time_zone(value, time_zone)
    where = babel_locale(locale or formatting_locale())
    # Babel's "medium" moment carries seconds; a day and an hour-and-minute read as people write them.
    return f"{format_date(local, 'medium', locale=where)}, {format_time(local, 'short', locale=where)}"


def format_clock_time(value: datetime, locale: str | None = None, time_zone: str | None = None) -> str:
    """The time of day of a moment in the reader's time zone: ``2:05 PM``, ``14:05``."""
    where = babel_locale(locale or formatting_locale())
    return str(format_time(in_time_zone(value, time_zone), "short", locale=where))


def in_time_zone(value: datetime, time_zone: str | None = None) -> datetime:
    """``value`` (UTC when it carries no zone, as the database keeps it) in ``time_zone``."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone(time_zone or current_time_zone()))


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone of an IANA name; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted, for a choice in Settings."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))
