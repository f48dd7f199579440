"""Pushing a round by hand: the current week by default, once per week, clear refusals."""

from __future__ import annotations

import pytest

from bot.runtime.config import Settings
from bot.schedule.clock import FakeClock
from bot.schedule.on_demand import PushError, push
from bot.schedule.rounds import OpenedRound, record_skipped
from bot.schedule.scheduler import RoundScheduler
from storage.db import Database
from tests.schedule.conftest import class_with_students, local, outbox_by_kind, rounds_of

WEDNESDAY_WEEK_3 = local(2026, 9, 16, 10)


async def test_push_queues_the_current_week_once(db: Database) -> None:
    cohort = await class_with_students(db)
    first = await push(db, "PW3A", "reflection", now=WEDNESDAY_WEEK_3)
    assert (first.week, first.created, first.opened.queued) == (3, True, 2)
    assert first.round.due_at == WEDNESDAY_WEEK_3
    again = await push(db, cohort.id, "reflection", now=WEDNESDAY_WEEK_3)  # by id this time
    assert (again.week, again.created, again.opened.queued) == (3, False, 0)
    assert again.round.id == first.round.id
    by_id_text = await push(db, str(cohort.id), "reflection", now=WEDNESDAY_WEEK_3)
    assert not by_id_text.created
    assert await outbox_by_kind(db) == {"reflection": 2}


async def test_push_an_earlier_week_and_then_the_scheduler_does_not_repeat_it(
    db: Database, settings: Settings
) -> None:
    await class_with_students(db)
    pushed = await push(db, "PW3A", "expectations", week=1, now=local(2026, 8, 31, 7))
    assert pushed.created and pushed.week == 1
    # Monday 08:00 comes: the scheduled round of week 1 exists already
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 31, 7, 30)))
    await scheduler.advance_to(local(2026, 8, 31, 9))
    assert [r.week for r in await rounds_of(db, "expectations")] == [1]
    assert await outbox_by_kind(db) == {"expectations": 2}


async def test_push_refuses_clearly(db: Database) -> None:
    await class_with_students(db)
    await class_with_students(db, "PW3H", holidays=["2026-W38"])  # 14-20 September
    cases = [
        (("PW3A", "reflection"), {"week": 4}, "week 4 has not begun: the current plan week is 3"),
        (("PW3A", "lunch"), {}, "unknown round kind 'lunch'"),
        (("PW9Z", "reflection"), {}, "no cohort named 'PW9Z'"),
        (("PW3H", "reflection"), {}, "holiday week of 'PW3H'"),
    ]
    for args, options, message in cases:
        with pytest.raises(PushError, match=message):
            await push(db, *args, now=WEDNESDAY_WEEK_3, **options)  # type: ignore[arg-type]
    with pytest.raises(PushError, match="has not started yet"):
        await push(db, "PW3A", "reflection", now=local(2026, 8, 28, 12))
    # in the holiday, the week before it can still be named
    holiday = await push(db, "PW3H", "reflection", week=2, now=WEDNESDAY_WEEK_3)
    assert holiday.created and holiday.week == 2
    assert await rounds_of(db) == [r for r in await rounds_of(db) if r.week == 2]


async def test_push_does_not_reopen_an_older_week_over_a_newer_one(db: Database) -> None:
    await class_with_students(db)
    await push(db, "PW3A", "reflection", now=WEDNESDAY_WEEK_3)
    with pytest.raises(PushError, match="the reflection round of week 3 exists already"):
        await push(db, "PW3A", "reflection", week=2, now=WEDNESDAY_WEEK_3)
    assert [r.week for r in await rounds_of(db, "reflection")] == [3]


async def test_a_round_skipped_as_too_late_can_still_be_pushed(db: Database) -> None:
    cohort = await class_with_students(db)
    await record_skipped(db, cohort.id, 2, "reflection", local(2026, 9, 11, 14))
    pushed = await push(db, "PW3A", "reflection", week=2, now=local(2026, 9, 14, 9))
    assert pushed.created and pushed.opened.queued == 2
    assert [(r.week, r.status) for r in await rounds_of(db, "reflection")] == [(2, "open")]


async def test_scheduler_push_tells_the_owner(db: Database, settings: Settings) -> None:
    await class_with_students(db)
    told: list[OpenedRound] = []

    async def owner(result: OpenedRound) -> None:
        told.append(result)

    scheduler = RoundScheduler(
        db, settings, clock=FakeClock(WEDNESDAY_WEEK_3), on_round_opened=owner
    )
    assert (await scheduler.push("PW3A", "expectations")).created
    assert not (await scheduler.push("PW3A", "expectations")).created
    assert [(o.round.week, o.round.kind) for o in told] == [(3, "expectations")]
