"""The days a recurring profile bills on: every N days, weeks, months or years from its start date.

Occurrence k is always counted from the start date, never from the occurrence before, so a day that a
short month clamps comes back: 31 January, monthly, gives 28 (or 29) February, then 31 March. Plain
arithmetic, no database: the recurring job, the back office's "next run" and the property tests use it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

DAY, WEEK, MONTH, YEAR = "day", "week", "month", "year"
UNITS = (DAY, WEEK, MONTH, YEAR)
MAX_EVERY = 999  # "every 999 days" is already more than two years


@dataclass(frozen=True)
class Schedule:
    """Every ``every`` ``unit`` from ``start``; until ``end`` (the last day one may fall on) or for
    ``count`` occurrences, whichever comes first, or for ever when neither is given."""

    unit: str
    every: int
    start: date
    end: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS or not 1 <= self.every <= MAX_EVERY:
            raise ValueError(f"every {self.every} {self.unit}: not a schedule")

    def occurrence(self, k: int) -> date | None:
        """The day of occurrence ``k`` (0 for the start date), or None when the schedule has ended."""
        if k < 0 or (self.count is not None and k >= self.count):
            return None
        try:
            day = shifted(self.start, self.unit, self.every * k)
        except OverflowError:
            return None
        return None if self.end is not None and day > self.end else day

    def occurrences(self, first: int = 0) -> Iterator[tuple[int, date]]:
        """(k, day) from occurrence ``first`` on, in order, until the schedule ends."""
        k = first
        while (day := self.occurrence(k)) is not None:
            yield k, day
            k += 1


def shifted(start: date, unit: str, amount: int) -> date:
    """``start`` moved ``amount`` units on; a day the target month lacks is clamped to its last day.

    Raises ``OverflowError`` past the year 9999."""
    if unit == DAY:
        return start + timedelta(days=amount)
    if unit == WEEK:
        return start + timedelta(weeks=amount)
    months = amount if unit == MONTH else amount * 12
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"{start} + {amount} {unit}")
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))
