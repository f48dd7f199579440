"""Holiday weeks, teaching weeks and their inverse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.plans import Plan
from bot.plans.calendar import (
    HolidayFormatError,
    calendar_week_start,
    parse_holiday,
    teaching_week,
    weeks_in_year,
)

START = date(2026, 9, 2)  # a Wednesday in ISO week 2026-W36


def test_parse_holiday() -> None:
    assert parse_holiday("2026-W43") == [(2026, 43)]
    assert parse_holiday("2026-w43") == [(2026, 43)]
    assert parse_holiday("2026-W52..2027-W01") == [(2026, 52), (2026, 53), (2027, 1)]
    assert parse_holiday("2027-W52..2028-W01") == [(2027, 52), (2028, 1)]
    assert weeks_in_year(2026) == 53 and weeks_in_year(2027) == 52
    for bad in ("2027-W53", "2026-W00", "W43", "2026-W43..", "2026-W3"):
        with pytest.raises(HolidayFormatError):
            parse_holiday(bad)


def test_is_holiday(small_plan: Plan) -> None:
    assert small_plan.holidays == ["2026-W43", "2026-W52..2026-W53"]
    assert small_plan.is_holiday(date(2026, 10, 19))
    assert small_plan.is_holiday(date(2026, 10, 25))
    assert not small_plan.is_holiday(date(2026, 10, 26))
    assert small_plan.is_holiday(date(2027, 1, 3))
    assert not small_plan.is_holiday(date(2027, 1, 4))


def test_teaching_week_skips_holidays(small_plan: Plan) -> None:
    week = small_plan.teaching_week
    assert week(START, date(2026, 8, 30)) is None  # the Sunday before the start week
    assert week(START, date(2026, 8, 31)) == 1  # the Monday of the start week
    assert week(START, START) == 1
    assert week(START, date(2026, 9, 6)) == 1
    assert week(START, date(2026, 9, 7)) == 2
    assert week(START, date(2026, 10, 18)) == 7
    assert week(START, date(2026, 10, 21)) is None  # herfstvakantie
    assert week(START, date(2026, 10, 26)) == 8
    assert week(START, date(2026, 12, 20)) == 15
    assert week(START, date(2026, 12, 30)) is None  # kerstvakantie
    assert week(START, date(2027, 1, 4)) == 16


def test_calendar_week_start_is_the_inverse(small_plan: Plan) -> None:
    assert small_plan.calendar_week_start(START, 1) == date(2026, 8, 31)
    assert small_plan.calendar_week_start(START, 8) == date(2026, 10, 26)
    assert small_plan.calendar_week_start(START, 16) == date(2027, 1, 4)
    for n in range(1, 60):
        monday = small_plan.calendar_week_start(START, n)
        assert monday.weekday() == 0
        assert all(small_plan.teaching_week(START, monday + timedelta(d)) == n for d in range(7))
    with pytest.raises(ValueError):
        small_plan.calendar_week_start(START, 0)


def test_start_inside_a_holiday(small_plan: Plan) -> None:
    start = date(2026, 10, 21)
    assert small_plan.teaching_week(start, start) is None
    assert small_plan.calendar_week_start(start, 1) == date(2026, 10, 26)
    assert small_plan.teaching_week(start, date(2026, 10, 26)) == 1


weeks = st.tuples(st.integers(2025, 2028), st.integers(1, 52))


@given(
    holidays=st.frozensets(weeks, max_size=12),
    start=st.dates(date(2025, 6, 1), date(2027, 6, 1)),
    number=st.integers(1, 80),
)
def test_inverse_property(holidays: frozenset[tuple[int, int]], start: date, number: int) -> None:
    monday = calendar_week_start(holidays, start, number)
    assert teaching_week(holidays, start, monday) == number
    assert teaching_week(holidays, start, monday + timedelta(days=6)) == number
    before = monday - timedelta(days=1)
    assert teaching_week(holidays, start, before) in ({None} | set(range(1, number)))
