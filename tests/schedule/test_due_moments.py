"""When a round is due: exact UTC instants across both daylight-saving weekends, and the cron
trigger that fires at the same instants (no database, no waiting)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.clock import FakeClock, WallClockTrigger, due_moments, latest_due, local_instant
from bot.schedule.timespec import DAY_NAMES, parse_weekly

AMS = ZoneInfo("Europe/Amsterdam")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def fire_times(trigger: WallClockTrigger, start: datetime, end: datetime) -> list[datetime]:
    """The instants APScheduler would run a job at: next_fire_time fed its previous answer."""
    times: list[datetime] = []
    previous, now = None, start
    while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire <= end:
        times.append(fire.astimezone(UTC))
        previous = now = fire
    return times


SPRING = (utc(2027, 3, 20), utc(2027, 4, 5))  # clocks go 02:00 -> 03:00 on Sunday 2027-03-28
AUTUMN = (utc(2026, 10, 17), utc(2026, 11, 2))  # clocks go 03:00 -> 02:00 on Sunday 2026-10-25


def instants(text: str) -> list[datetime]:
    """ "2027-03-21 01:30, 2027-03-28 01:00" (UTC) as aware datetimes."""
    return [datetime.fromisoformat(part.strip()).replace(tzinfo=UTC) for part in text.split(",")]


@pytest.mark.parametrize(
    ("spec", "window", "expected"),
    [
        # 02:30 does not exist on the spring day: due when the gap ends, 03:00 CEST, once
        ("sun 02:30", SPRING, "2027-03-21 01:30, 2027-03-28 01:00, 2027-04-04 00:30"),
        ("sun 02:00", SPRING, "2027-03-21 01:00, 2027-03-28 01:00, 2027-04-04 00:00"),
        # 02:30 happens twice on the autumn day: due at the first one (CEST) only
        ("sun 02:30", AUTUMN, "2026-10-18 00:30, 2026-10-25 00:30, 2026-11-01 01:30"),
        ("sun 02:59", AUTUMN, "2026-10-18 00:59, 2026-10-25 00:59, 2026-11-01 01:59"),
        ("sun 03:00", AUTUMN, "2026-10-18 01:00, 2026-10-25 02:00, 2026-11-01 02:00"),
        # the default times keep their local wall time across both changes
        ("mon 08:00", SPRING, "2027-03-22 07:00, 2027-03-29 06:00"),
        ("sun 18:00", AUTUMN, "2026-10-18 16:00, 2026-10-25 17:00, 2026-11-01 17:00"),
        # just after midnight the day after a change (plain CronTrigger 3.11 skips that week)
        ("mon 00:30", SPRING, "2027-03-21 23:30, 2027-03-28 22:30, 2027-04-04 22:30"),
        ("mon 00:30", AUTUMN, "2026-10-18 22:30, 2026-10-25 23:30, 2026-11-01 23:30"),
    ],
)
def test_due_moments_across_dst(
    spec: str, window: tuple[datetime, datetime], expected: str
) -> None:
    when = parse_weekly(spec)
    assert due_moments(when, AMS, *window) == instants(expected)
    assert fire_times(WallClockTrigger(when, AMS), *window) == instants(expected)


def test_local_instant_rules() -> None:
    # spring gap: the first instant after it
    assert local_instant(datetime(2027, 3, 28, 2, 30), AMS) == utc(2027, 3, 28, 1, 0)
    assert local_instant(datetime(2027, 3, 28, 2, 0), AMS) == utc(2027, 3, 28, 1, 0)
    # autumn repeat: the first of the two
    assert local_instant(datetime(2026, 10, 25, 2, 30), AMS) == utc(2026, 10, 25, 0, 30)
    assert local_instant(datetime(2026, 10, 25, 12, 0), AMS) == utc(2026, 10, 25, 11, 0)
    # a zone whose clocks jump at midnight (Santiago, spring 2026-09-06 00:00 -> 01:00)
    santiago = ZoneInfo("America/Santiago")
    assert local_instant(datetime(2026, 9, 6, 0, 0), santiago) == utc(2026, 9, 6, 4, 0)


@pytest.mark.parametrize(
    "zone_name", ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe"]
)
def test_trigger_fires_exactly_at_the_due_moments_for_every_time_of_the_week(
    zone_name: str,
) -> None:
    """Every half hour of every weekday for a year with two clock changes: one fire per week,
    at the due moment; never a skip, never a double."""
    zone = ZoneInfo(zone_name)
    start, end = utc(2026, 1, 1, 0, 1), utc(2027, 1, 1)
    for day in DAY_NAMES:
        for minutes in range(0, 24 * 60, 30):
            when = parse_weekly(f"{day} {minutes // 60:02d}:{minutes % 60:02d}")
            moments = due_moments(when, zone, start, end)
            assert len(moments) in (52, 53)
            gaps = {b - a for a, b in itertools.pairwise(moments)}
            assert gaps <= {timedelta(days=7) + timedelta(minutes=m) for m in (-60, -30, 0, 30, 60)}
            assert fire_times(WallClockTrigger(when, zone), start, end) == moments, when


def test_due_moments_window_is_half_open() -> None:
    when = parse_weekly("mon 08:00")
    monday = utc(2026, 9, 7, 6, 0)
    assert due_moments(when, AMS, monday, monday + timedelta(days=7)) == [
        monday + timedelta(days=7)
    ]
    assert due_moments(when, AMS, monday - timedelta(seconds=1), monday) == [monday]
    assert due_moments(when, AMS, monday, monday) == []


def test_latest_due() -> None:
    when = parse_weekly("fri 14:00")
    friday = utc(2026, 9, 4, 12, 0)
    assert latest_due(when, AMS, friday) == friday
    assert latest_due(when, AMS, friday - timedelta(seconds=1)) == friday - timedelta(days=7)
    assert latest_due(when, AMS, friday + timedelta(days=6)) == friday


def test_fake_clock() -> None:
    clock = FakeClock(datetime(2026, 9, 7, 8, 0, tzinfo=AMS))
    assert clock.now() == utc(2026, 9, 7, 6, 0) and clock.now().tzinfo is UTC
    assert clock.advance(timedelta(hours=2)) == utc(2026, 9, 7, 8, 0)
    clock.set(utc(2026, 1, 1))
    assert clock.now() == utc(2026, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))
