"""Weekly times such as "mon 08:00" (English or Dutch day names)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from storage.records import CohortRecord

log = logging.getLogger(__name__)

DAYS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6,
}  # fmt: skip
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PATTERN = re.compile(r"^\s*([a-z]{2,3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WeeklyTime:
    weekday: int  # Monday = 0
    hour: int
    minute: int

    def __str__(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.hour:02d}:{self.minute:02d}"


def parse_weekly(text: str) -> WeeklyTime:
    """Parse "mon 08:00", "vr 14:00" or "friday 14:00"; ValueError with a clear message."""
    match = _PATTERN.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a weekly time like 'mon 08:00'")
    day, hour, minute = match.group(1), int(match.group(2)), int(match.group(3))
    weekday = DAYS.get(day, DAYS.get(day[:2]))
    if weekday is None:
        raise ValueError(f"{text!r}: unknown day {day!r}")
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: no such time of day")
    return WeeklyTime(weekday, hour, minute)


def cohort_zone(cohort: CohortRecord) -> ZoneInfo | None:
    """The cohort's time zone, or None (logged: no rounds can be timed) when it is unknown."""
    try:
        return ZoneInfo(cohort.timezone)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        log.error("cohort %s: unknown time zone %r, no rounds timed", cohort.id, cohort.timezone)
        return None
