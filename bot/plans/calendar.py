"""ISO-week arithmetic for plans: holiday specs, teaching weeks and their inverse.

A plan counts *teaching weeks*: week 1 is the ISO week (Monday to Sunday) that contains the
cohort's start date, and every later ISO week that is not a holiday adds one. Holiday weeks are
skipped: they have no plan week number and do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

IsoWeek = tuple[int, int]
"""An ISO week as ``(iso_year, week_number)``."""

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
MAX_HOLIDAY_RANGE_WEEKS = 60
"""A holiday range longer than this is almost certainly a typo (a year off)."""


class HolidayFormatError(ValueError):
    """A holiday spec that cannot be parsed; ``code`` and ``ctx`` feed the message catalogue."""

    def __init__(self, code: str, **ctx: object) -> None:
        super().__init__(code)
        self.code = code
        self.ctx = ctx


def weeks_in_year(year: int) -> int:
    """Number of ISO weeks (52 or 53) in ISO year ``year``."""
    return date(year, 12, 28).isocalendar().week


def iso_week(d: date) -> IsoWeek:
    """The ISO week that contains ``d``."""
    cal = d.isocalendar()
    return cal.year, cal.week


def monday_of(week: IsoWeek) -> date:
    """The Monday of an ISO week."""
    return date.fromisocalendar(week[0], week[1], 1)


def _parse_week(text: str, spec: str) -> IsoWeek:
    match = _WEEK_RE.match(text.strip())
    if not match:
        raise HolidayFormatError("holiday_format", value=spec)
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= week <= weeks_in_year(year):
        raise HolidayFormatError(
            "holiday_no_such_week", week=text.strip(), weeks=weeks_in_year(year)
        )
    return year, week


def parse_holiday(spec: str) -> list[IsoWeek]:
    """Parse ``"2026-W43"`` or ``"2026-W52..2027-W01"`` into the ISO weeks it covers.

    Raises :class:`HolidayFormatError` for a malformed spec, a week that does not exist in its
    year (week 53 of a 52-week year), a range that runs backwards, or one that is implausibly long.
    """
    parts = spec.split("..")
    if len(parts) > 2:
        raise HolidayFormatError("holiday_format", value=spec)
    first = _parse_week(parts[0], spec)
    last = _parse_week(parts[-1], spec)
    if last < first:
        raise HolidayFormatError("holiday_backwards", value=spec)
    start, end = monday_of(first), monday_of(last)
    count = (end - start).days // 7 + 1
    if count > MAX_HOLIDAY_RANGE_WEEKS:
        raise HolidayFormatError("holiday_too_long", value=spec, max=MAX_HOLIDAY_RANGE_WEEKS)
    return [iso_week(start + timedelta(weeks=i)) for i in range(count)]


def holiday_weeks(specs: Iterable[str]) -> frozenset[IsoWeek]:
    """All ISO weeks covered by valid holiday specs (invalid ones are the validator's business)."""
    weeks: set[IsoWeek] = set()
    for spec in specs:
        weeks.update(parse_holiday(spec))
    return frozenset(weeks)


def teaching_week(holidays: frozenset[IsoWeek], start: date, d: date) -> int | None:
    """Plan week number of date ``d`` for a cohort that started on ``start``.

    None when ``d`` lies before the start week or in a holiday week.
    """
    first, target = monday_of(iso_week(start)), monday_of(iso_week(d))
    if target < first or iso_week(d) in holidays:
        return None
    total = (target - first).days // 7 + 1
    skipped = sum(1 for week in holidays if first <= monday_of(week) <= target)
    return total - skipped


def calendar_week_start(holidays: frozenset[IsoWeek], start: date, number: int) -> date:
    """The Monday of plan week ``number`` (≥ 1) for a cohort that started on ``start``.

    Inverse of :func:`teaching_week`: ``teaching_week(h, s, calendar_week_start(h, s, n)) == n``.
    """
    if number < 1:
        raise ValueError(f"plan week numbers start at 1, not {number}")
    monday = monday_of(iso_week(start))
    seen = 0
    while True:
        if iso_week(monday) not in holidays:
            seen += 1
            if seen == number:
                return monday
        monday += timedelta(weeks=1)
