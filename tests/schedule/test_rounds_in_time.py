"""The scheduler opening rounds on a controllable clock: three weeks in order, holidays,
catch-up after downtime with its grace period, daylight saving, and two instances racing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.runtime.config import Settings
from bot.schedule.clock import FakeClock
from bot.schedule.rounds import OpenedRound
from bot.schedule.scheduler import RoundScheduler
from storage.db import Database
from tests.schedule.conftest import class_with_students, local, outbox_by_kind, rounds_of

EXPECTED_WEEKS = {
    "expectations": [local(2026, 8, 31, 8), local(2026, 9, 7, 8), local(2026, 9, 14, 8)],
    "digest": [local(2026, 8, 31, 7), local(2026, 9, 7, 7), local(2026, 9, 14, 7)],
    "reflection": [local(2026, 9, 4, 14), local(2026, 9, 11, 14), local(2026, 9, 18, 14)],
    "reminder": [local(2026, 9, 6, 18), local(2026, 9, 13, 18), local(2026, 9, 20, 18)],
    # no werkbegeleider is linked in these classes: the round exists but sends nothing
    "observation": [local(2026, 9, 4, 16), local(2026, 9, 11, 16), local(2026, 9, 18, 16)],
}


async def test_three_weeks_open_every_round_once_in_order(db: Database, settings: Settings) -> None:
    await class_with_students(db)
    opened: list[OpenedRound] = []

    async def collect(result: OpenedRound) -> None:
        opened.append(result)

    clock = FakeClock(local(2026, 8, 30, 12))  # the Sunday before the start
    scheduler = RoundScheduler(db, settings, clock=clock, on_round_opened=collect)
    returned = await scheduler.advance_to(local(2026, 9, 21, 6))  # before week 4's digest

    rounds = await rounds_of(db)
    assert len(rounds) == 15 and len(returned) == 15 and len(opened) == 15
    for kind, moments in EXPECTED_WEEKS.items():
        mine = [r for r in rounds if r.kind == kind]
        assert [r.due_at for r in mine] == moments
        assert [r.week for r in mine] == [1, 2, 3]
    # in time order, each callback seeing the clock at its round's due moment
    assert [o.round.due_at for o in opened] == sorted(r.due_at for r in rounds)
    # one message per student per expectations/reflection round, reminders to the unfinished
    assert await outbox_by_kind(db) == {"expectations": 6, "reflection": 6, "reminder": 6}
    # a new reflection round closed the previous week's
    assert [r.status for r in await rounds_of(db, "reflection")] == ["closed", "closed", "open"]
    assert clock.now() == local(2026, 9, 21, 6)
    # going over the same time again opens nothing
    assert await scheduler.advance_to(local(2026, 9, 21, 6)) == []
    assert len(await rounds_of(db)) == 15


async def test_advance_in_small_steps_equals_one_big_step(db: Database, settings: Settings) -> None:
    await class_with_students(db)
    clock = FakeClock(local(2026, 8, 30, 12))
    scheduler = RoundScheduler(db, settings, clock=clock)
    while clock.now() < local(2026, 9, 21, 6):
        await scheduler.advance_to(min(clock.now() + timedelta(hours=5), local(2026, 9, 21, 6)))
    assert len(await rounds_of(db)) == 15
    assert await outbox_by_kind(db) == {"expectations": 6, "reflection": 6, "reminder": 6}


async def test_holiday_weeks_produce_nothing(db: Database, settings: Settings) -> None:
    await class_with_students(db, holidays=["2026-W37"])  # 7-13 September
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 30, 12)))
    await scheduler.advance_to(local(2026, 9, 21, 6))

    rounds = await rounds_of(db)
    assert sorted({(r.week, r.kind) for r in rounds}) == sorted(
        (week, kind) for week in (1, 2) for kind in EXPECTED_WEEKS
    )
    assert not [r for r in rounds if local(2026, 9, 7) <= r.due_at < local(2026, 9, 14)]
    week2 = [r.due_at for r in rounds if r.week == 2 and r.kind == "expectations"]
    assert week2 == [local(2026, 9, 14, 8)]
    assert await outbox_by_kind(db) == {"expectations": 4, "reflection": 4, "reminder": 4}


async def test_nothing_before_the_start_date(db: Database, settings: Settings) -> None:
    await class_with_students(db, start=local(2026, 9, 2).date())  # a Wednesday
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 30, 12)))
    await scheduler.advance_to(local(2026, 9, 7, 6))
    # Monday's expectations and digest of week 1 came before the start; Friday's did not
    assert [(r.week, r.kind) for r in await rounds_of(db)] == [
        (1, "reflection"),
        (1, "observation"),
        (1, "reminder"),
    ]


async def test_catch_up_within_grace_opens_once_beyond_grace_skips(
    db: Database, settings: Settings
) -> None:
    await class_with_students(db)
    # down since before Friday's reflection; back on Monday of week 2 at 10:00
    clock = FakeClock(local(2026, 9, 7, 10))
    opened = await RoundScheduler(db, settings, clock=clock).run_due_now()
    assert sorted(o.round.kind for o in opened) == ["digest", "expectations"]

    rounds = {(r.week, r.kind): r for r in await rounds_of(db)}
    assert {key: r.status for key, r in rounds.items()} == {
        (2, "digest"): "open",  # 3 hours late: within the 12 hours of grace
        (2, "expectations"): "open",  # 2 hours late
        (1, "reflection"): "skipped",  # Friday 14:00: 68 hours late
        (1, "observation"): "skipped",  # Friday 16:00: 66 hours late
        (1, "reminder"): "skipped",  # Sunday 18:00: 16 hours late
    }
    assert await outbox_by_kind(db) == {"expectations": 2}

    # another restart, later: nothing twice, and the skipped rounds are never sent late
    clock.advance(timedelta(hours=3))
    assert await RoundScheduler(db, settings, clock=clock).run_due_now() == []
    assert len(await rounds_of(db)) == 5
    assert await outbox_by_kind(db) == {"expectations": 2}


async def test_grace_boundary_is_inclusive(db: Database, settings: Settings) -> None:
    await class_with_students(db)
    clock = FakeClock(local(2026, 9, 7, 20))  # expectations exactly 12 h late, digest 13 h
    await RoundScheduler(db, settings, clock=clock).run_due_now()
    status = {r.kind: r.status for r in await rounds_of(db) if r.week == 2}
    assert status == {"expectations": "open", "digest": "skipped"}


async def test_dst_weekends_open_each_round_once(db: Database, settings: Settings) -> None:
    await class_with_students(db, reflection_at="sun 02:30", reminder_at="sun 02:45")

    async def sundays(start: datetime, end: datetime) -> list[str]:
        """The UTC due times of the reflection rounds opened while going from start to end."""
        await RoundScheduler(db, settings, clock=FakeClock(start)).advance_to(end)
        rounds = [r for r in await rounds_of(db, "reflection") if start < r.due_at <= end]
        assert len({r.week for r in rounds}) == len(rounds), "a week's round twice"
        assert all(r.status != "skipped" for r in rounds)
        return [r.due_at.strftime("%m-%d %H:%M") for r in rounds]

    # 25 October 2026: 02:30 happens twice; the round is due at the first (CEST), once
    autumn = await sundays(local(2026, 10, 17), local(2026, 11, 2))
    assert autumn == ["10-18 00:30", "10-25 00:30", "11-01 01:30"]
    # 28 March 2027: 02:30 does not exist; the round is due at 03:00 CEST, once
    spring = await sundays(local(2027, 3, 20), local(2027, 4, 5))
    assert spring == ["03-21 01:30", "03-28 01:00", "04-04 00:30"]
    reminders = [r.due_at.strftime("%m-%d %H:%M") for r in await rounds_of(db, "reminder")]
    assert "10-25 00:45" in reminders and "10-25 01:45" not in reminders
    assert "03-28 01:00" in reminders


async def test_two_instances_racing_open_each_round_once(
    db: Database, settings: Settings, database_url: str
) -> None:
    await class_with_students(db)
    other = Database(database_url)  # a second instance: its own engine and connections
    callbacks: list[int] = []

    async def count(result: OpenedRound) -> None:
        callbacks.append(result.round.id)

    try:
        first, second = (
            RoundScheduler(
                d, settings, clock=FakeClock(local(2026, 8, 30, 12)), on_round_opened=count
            )
            for d in (db, other)
        )
        results = await asyncio.gather(
            first.advance_to(local(2026, 9, 21, 6)), second.advance_to(local(2026, 9, 21, 6))
        )
        assert len(results[0]) + len(results[1]) == 15
        assert sorted(callbacks) == sorted(set(callbacks)) and len(callbacks) == 15
        assert len(await rounds_of(db)) == 15
        assert await outbox_by_kind(db) == {"expectations": 6, "reflection": 6, "reminder": 6}

        # and two restarts at once on Monday of week 4, 2 hours after the expectations
        clocks = [FakeClock(local(2026, 9, 28, 10)) for _ in range(2)]
        catch_ups = await asyncio.gather(
            RoundScheduler(db, settings, clock=clocks[0]).run_due_now(),
            RoundScheduler(other, settings, clock=clocks[1]).run_due_now(),
        )
        assert sorted(o.round.kind for batch in catch_ups for o in batch) == [
            "digest",
            "expectations",
        ]
        assert await outbox_by_kind(db) == {"expectations": 8, "reflection": 6, "reminder": 6}
    finally:
        await other.dispose()
