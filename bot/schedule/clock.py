"""Time: a clock that tests and the accelerated demo can control, and the pure arithmetic of
"when is a weekly round due" in a cohort's time zone, daylight saving included.

Every instant this module returns is an aware datetime in UTC (the trigger's: in its zone).
A weekly time such as "sun 02:30" names a *wall-clock* time; on the two days a year that the
clocks change it needs a rule, and this module is the one place that decides it:

- spring forward (the wall time does not exist that day, e.g. 02:30 in Amsterdam on the last
  Sunday of March): the round is due at the first moment after the gap (03:00 local);
- fall back (the wall time happens twice, e.g. 02:30 on the last Sunday of October): the round
  is due at the first of the two, and only then.

`WallClockTrigger` makes APScheduler's cron jobs fire at exactly these moments, so a job and
the catch-up logic never disagree about which round is due.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.schedule.timespec import DAY_NAMES, WeeklyTime


class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to: for tests and the accelerated demo."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (forwards or backwards)."""
        self._now = _aware_utc(when)

    def advance(self, delta: timedelta) -> datetime:
        """Move on by `delta`; returns the new now."""
        self._now += delta
        return self._now


def _aware_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("a clock needs an aware datetime, not a naive one")
    return when.astimezone(UTC)


def wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock reading of `instant` in `zone`."""
    # via UTC: astimezone() to the zone a datetime already has returns it unchanged, even
    # when its wall time does not exist there
    return instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def local_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clocks in `zone` show the naive `wall` time.

    Ambiguous (fall back): the first occurrence. Non-existent (spring forward): the end of the
    gap, i.e. the first instant after it whose wall time exists."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if wall_time(first, zone) == wall:
        return first
    # In a gap zoneinfo reads fold=1 with the offset after the change and fold=0 with the one
    # before, so the transition lies between those two readings: find it to the second.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # shows a time before the gap
    high = first  # shows a time after the gap
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low) // timedelta(seconds=1) // 2)
        if wall_time(middle, zone) > wall:
            high = middle
        else:
            low = middle
    return high


def due_moments(
    when: WeeklyTime, zone: ZoneInfo, after: datetime, before: datetime
) -> list[datetime]:
    """Every instant in (after, before] at which a round at weekly time `when` is due in `zone`,
    oldest first; exactly one per local calendar week, whatever the clocks do."""
    after, before = after.astimezone(UTC), before.astimezone(UTC)
    if before <= after:
        return []
    moments = []
    # one day of slack on both sides: the zone's offset can move the local date
    day = after.astimezone(zone).date() - timedelta(days=1)
    last = before.astimezone(zone).date() + timedelta(days=1)
    day += timedelta(days=(when.weekday - day.weekday()) % 7)
    while day <= last:
        moment = local_instant(datetime.combine(day, time(when.hour, when.minute)), zone)
        if after < moment <= before:
            moments.append(moment)
        day += timedelta(days=7)
    return moments


def latest_due(when: WeeklyTime, zone: ZoneInfo, at: datetime) -> datetime:
    """The most recent instant at or before `at` at which `when` was due."""
    moments = due_moments(when, zone, at - timedelta(days=8), at)
    return moments[-1]


class WallClockTrigger(CronTrigger):
    """A weekly CronTrigger whose fire times are `due_moments`: one per week, daylight saving
    included.

    The field matching of CronTrigger 3.11.3 fires twice in a repeated hour (02:30 on the last
    Sunday of October), an hour late in a skipped one (03:30 for 02:30 in March), and skips
    a whole week for 00:xx on the day after a spring change (Monday 00:30 after 2026-03-29 in
    Amsterdam). The cron fields stay for display; the times come from the rule above."""

    def __init__(self, when: WeeklyTime, zone: ZoneInfo) -> None:
        day = DAY_NAMES[when.weekday]
        super().__init__(day_of_week=day, hour=when.hour, minute=when.minute, timezone=zone)
        self.when = when
        self.zone = zone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # APScheduler's contract: the first time after the previous one, or at/after now
        after = previous_fire_time or now - timedelta(microseconds=1)
        moments = due_moments(self.when, self.zone, after, after + timedelta(days=8))
        return moments[0].astimezone(self.zone)
