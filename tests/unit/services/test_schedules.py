"""A recurring profile's days: every N days, weeks, months or years counted from the start date, a month's
missing day clamped to its last without drifting, ending on the end date or after the count."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.schedules import DAY, MONTH, UNITS, WEEK, YEAR, Schedule, shifted

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
everies = st.integers(min_value=1, max_value=36)


def days(schedule: Schedule, count: int) -> list[date]:
    return [day for _k, day in zip(range(count), (day for _i, day in schedule.occurrences()), strict=False)]


def test_month_ends_clamp_and_come_back():
    monthly = Schedule(MONTH, 1, date(2027, 1, 31))

    assert days(monthly, 4) == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert days(Schedule(MONTH, 1, date(2028, 1, 31)), 2)[1] == date(2028, 2, 29)  # a leap year
    assert days(Schedule(YEAR, 1, date(2028, 2, 29)), 3) == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
    ]
    assert days(Schedule(WEEK, 2, date(2027, 1, 1)), 3) == [
        date(2027, 1, 1),
        date(2027, 1, 15),
        date(2027, 1, 29),
    ]


def test_a_schedule_ends_on_its_end_date_or_after_its_count():
    assert days(Schedule(MONTH, 1, date(2027, 1, 15), end=date(2027, 3, 15)), 10) == [
        date(2027, 1, 15),
        date(2027, 2, 15),
        date(2027, 3, 15),
    ]
    assert len(days(Schedule(DAY, 3, date(2027, 1, 1), count=4), 10)) == 4
    assert Schedule(DAY, 1, date(2027, 1, 1), count=0).occurrence(0) is None


def test_a_schedule_that_is_not_one_is_refused():
    with pytest.raises(ValueError, match="not a schedule"):
        Schedule("fortnight", 1, date(2027, 1, 1))
    with pytest.raises(ValueError, match="not a schedule"):
        Schedule(MONTH, 0, date(2027, 1, 1))


@given(start=starts, every=everies, k=st.integers(min_value=0, max_value=200))
def test_a_monthly_day_is_the_start_day_or_the_months_last(start, every, k):
    day = Schedule(MONTH, every, start).occurrence(k)
    assert day is not None
    months = (day.year - start.year) * 12 + day.month - start.month
    assert months == every * k  # never drifts: occurrence k is k steps from the start
    last = calendar.monthrange(day.year, day.month)[1]
    assert day.day == min(start.day, last)


@given(start=starts, unit=st.sampled_from(UNITS), every=everies, k=st.integers(min_value=0, max_value=100))
def test_occurrences_rise_strictly_and_start_on_the_start_date(start, unit, every, k):
    schedule = Schedule(unit, every, start)
    first, this, following = schedule.occurrence(0), schedule.occurrence(k), schedule.occurrence(k + 1)
    assert first == start
    assert this is not None
    assert following is not None
    assert this < following


@given(start=starts, every=everies, k=st.integers(min_value=0, max_value=300))
def test_days_and_weeks_are_exact_steps(start, every, k):
    assert Schedule(DAY, every, start).occurrence(k) == start + timedelta(days=every * k)
    assert Schedule(WEEK, every, start).occurrence(k) == start + timedelta(weeks=every * k)


@given(
    start=starts,
    unit=st.sampled_from(UNITS),
    every=everies,
    count=st.integers(min_value=1, max_value=30),
    span=st.integers(min_value=0, max_value=2000),
)
def test_no_occurrence_past_the_end_or_the_count(start, unit, every, count, span):
    end = start + timedelta(days=span)
    made = [day for _k, day in Schedule(unit, every, start, end=end, count=count).occurrences()]
    assert len(made) <= count
    assert all(start <= day <= end for day in made)
    unbounded = Schedule(unit, every, start)
    assert made == [day for k in range(len(made)) if (day := unbounded.occurrence(k)) is not None]


def test_shifted_past_the_calendar_overflows():
    with pytest.raises(OverflowError):
        shifted(date(9999, 12, 1), MONTH, 1)
    assert Schedule(YEAR, 1, date(9999, 1, 1)).occurrence(1) is None
