"""The APScheduler side: one cron job per weekly time and zone in use, rebuilt from the
database, changes picked up by the poll without a restart, a job firing through the real
scheduler for every cohort due at its moment, and a shutdown that lets a round being opened
finish."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bot.runtime.config import Settings
from bot.schedule.clock import FakeClock
from bot.schedule.rounds import KINDS, OpenedRound
from bot.schedule.scheduler import RoundScheduler, job_id
from bot.schedule.timespec import parse_weekly
from storage.db import Database
from storage.models import Cohort
from storage.repos import CohortRepo
from tests.factories import make_cohort
from tests.schedule.conftest import (
    AMS,
    START,
    class_with_students,
    local,
    outbox_by_kind,
    rounds_of,
)

KIND_TIMES = {
    "expectations": (0, 8, 0),
    "reflection": (4, 14, 0),
    "reminder": (6, 18, 0),
    "observation": (4, 16, 0),
}


def wall(moment: datetime | None, zone: ZoneInfo = AMS) -> tuple[int, int, int]:
    """(weekday, hour, minute) of `moment` on the clocks of `zone`."""
    assert moment is not None
    local_moment = moment.astimezone(zone)
    return local_moment.weekday(), local_moment.hour, local_moment.minute


async def test_start_builds_one_job_per_weekly_time_and_zone(
    db: Database, settings: Settings
) -> None:
    first = await class_with_students(db, "PW3A")
    second = await class_with_students(db, "PW3B", digest_at="tue 09:15")
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 1)))
    await scheduler.start()
    try:
        assert scheduler.scheduler is not None
        ids = sorted(job.id for job in scheduler.scheduler.get_jobs())
        times = {parse_weekly(getattr(c, f"{kind}_at"))
                 for c in (first, second) for kind in KINDS}  # fmt: skip
        assert ids == sorted(job_id(when, "Europe/Amsterdam") for when in times)
        assert len(ids) == 6  # the five times the cohorts share, and the second's own digest
        for kind, expected in KIND_TIMES.items():
            assert wall(scheduler.next_run_time(first.id, kind)) == expected
            assert scheduler.next_run_time(second.id, kind) == scheduler.next_run_time(
                first.id, kind
            )
        assert wall(scheduler.next_run_time(second.id, "digest")) == (1, 9, 15)
        job = scheduler.scheduler.get_job(job_id(parse_weekly("fri 14:00"), "Europe/Amsterdam"))
        assert job.args == (parse_weekly("fri 14:00"), "Europe/Amsterdam")
        assert job.coalesce is True
        assert job.misfire_grace_time is None  # the grace period in the database decides
    finally:
        apscheduler = scheduler.scheduler
        await scheduler.shutdown()
    assert scheduler.scheduler is None and apscheduler is not None
    assert not apscheduler.running


async def test_a_thousand_cohorts_at_the_same_times_share_five_jobs(
    db: Database, settings: Settings
) -> None:
    async with db.transaction() as session:
        for n in range(1000):
            await make_cohort(session, f"C{n:04d}", start=START)
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 1)))
    await scheduler.start()
    try:
        assert scheduler.scheduler is not None
        assert len(scheduler.scheduler.get_jobs()) == len(KINDS)
    finally:
        await scheduler.shutdown()


async def test_poll_picks_up_changed_new_and_deleted_cohorts(
    db: Database, settings: Settings
) -> None:
    cohort = await class_with_students(db, "PW3A")
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 1)))
    await scheduler.start()
    try:
        assert await scheduler.refresh() == []  # nothing changed
        async with db.transaction() as session:
            await CohortRepo(session).update_settings(
                cohort.id, reflection_at="thu 15:30", timezone="Europe/London"
            )
        assert await scheduler.refresh() == [cohort.id]
        london = ZoneInfo("Europe/London")
        assert wall(scheduler.next_run_time(cohort.id, "reflection"), london) == (3, 15, 30)
        assert wall(scheduler.next_run_time(cohort.id, "expectations"), london) == (0, 8, 0)

        added = await class_with_students(db, "PW3B")
        assert await scheduler.refresh() == [added.id]
        assert scheduler.next_run_time(added.id, "digest") is not None

        async with db.transaction() as session:
            await session.execute(delete(Cohort).where(Cohort.id == cohort.id))
        assert await scheduler.refresh() == []
        assert scheduler.next_run_time(cohort.id, "reflection") is None
        assert scheduler.next_run_time(added.id, "reflection") is not None
    finally:
        await scheduler.shutdown()


async def test_the_poll_loop_runs_without_a_restart(db: Database, settings: Settings) -> None:
    cohort = await class_with_students(db)
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 1)), poll_seconds=0.01)
    rebuilt = asyncio.Event()
    original = scheduler.refresh

    async def watched() -> list[int]:
        changed = await original()
        if changed:
            rebuilt.set()
        return changed

    scheduler.refresh = watched  # type: ignore[method-assign]
    await scheduler.start()
    try:
        assert rebuilt.is_set()  # start() itself builds through refresh
        rebuilt.clear()
        async with db.transaction() as session:
            await CohortRepo(session).update_settings(cohort.id, expectations_at="wed 09:45")
        await asyncio.wait_for(rebuilt.wait(), timeout=30)
        assert wall(scheduler.next_run_time(cohort.id, "expectations")) == (2, 9, 45)
    finally:
        await scheduler.shutdown()


async def test_a_bad_time_or_zone_disables_only_that(db: Database, settings: Settings) -> None:
    cohort = await class_with_students(db, "PW3A")
    other = await class_with_students(db, "PW3B")
    async with db.transaction() as session:
        await CohortRepo(session).update_settings(cohort.id, reminder_at="someday")
        await CohortRepo(session).update_settings(other.id, timezone="Mars/Olympus")
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 9, 7, 9)))
    await scheduler.start()
    try:
        assert scheduler.next_run_time(cohort.id, "reminder") is None
        assert scheduler.next_run_time(cohort.id, "reflection") is not None
        assert scheduler.next_run_time(other.id, "reflection") is None
        assert {(r.week, r.kind) for r in await rounds_of(db) if r.status == "open"} == {
            (2, "expectations"),
            (2, "digest"),
        }
    finally:
        await scheduler.shutdown()


async def test_a_job_fired_by_apscheduler_opens_the_round_and_shutdown_waits_for_it(
    db: Database, settings: Settings
) -> None:
    first = await class_with_students(db, "PW3A")
    second = await class_with_students(db, "PW3B")
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[OpenedRound] = []

    async def slow_owner(result: OpenedRound) -> None:
        if result.round.kind != "reflection":
            return
        entered.set()
        await release.wait()
        finished.append(result)

    # started a minute before Friday's reflection of week 2; then the minute passes
    clock = FakeClock(local(2026, 9, 11, 13, 59))
    scheduler = RoundScheduler(db, settings, clock=clock, on_round_opened=slow_owner)
    await scheduler.start()
    assert not [r for r in await rounds_of(db, "reflection") if r.week == 2]
    clock.set(local(2026, 9, 11, 14, 0).replace(second=30))
    assert scheduler.scheduler is not None
    scheduler.scheduler.modify_job(
        job_id(parse_weekly("fri 14:00"), "Europe/Amsterdam"), next_run_time=datetime.now(UTC)
    )  # what the cron trigger does at 14:00, now
    await asyncio.wait_for(entered.wait(), timeout=30)

    stopping = asyncio.create_task(scheduler.shutdown())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done()  # the owner is still busy with the new round
    release.set()
    await asyncio.wait_for(stopping, timeout=30)
    # the one job of "fri 14:00" opened the round of both cohorts
    assert sorted((r.round.cohort_id, r.round.week) for r in finished) == [
        (first.id, 2),
        (second.id, 2),
    ]
    assert [r.week for r in await rounds_of(db, "reflection") if r.status == "open"] == [2, 2]
    assert (await outbox_by_kind(db))["reflection"] == 4


async def test_a_failed_catch_up_is_tried_again_by_the_next_poll(
    db: Database, settings: Settings
) -> None:
    await class_with_students(db)
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 9, 7, 9)))
    real_catch_up = scheduler._catch_up
    failures = [RuntimeError("database hiccup")]

    async def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return await real_catch_up(*args, **kwargs)

    scheduler._catch_up = flaky  # type: ignore[method-assign]
    await scheduler.start()
    try:
        assert await rounds_of(db) == []
        assert scheduler.next_run_time(1, "expectations") is not None  # the jobs stand anyway
        assert await scheduler.refresh() == [1]
        assert {(r.week, r.kind) for r in await rounds_of(db) if r.status == "open"} == {
            (2, "expectations"),
            (2, "digest"),
        }
        assert await scheduler.refresh() == []
    finally:
        await scheduler.shutdown()
