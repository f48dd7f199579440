"""Opening the rounds of many cohorts at once (`open_rounds`): the same rows as one at a
time, each round once when two instances race over several batches, and a broken cohort
costing only its own round."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.runtime.config import Settings
from bot.schedule.rounds import Due, open_round, open_rounds
from storage.db import Database
from storage.repos import CohortRepo
from tests.schedule.conftest import class_with_students, local, outbox_by_kind, rounds_of

MONDAY = local(2026, 9, 7, 8)  # week 2's expectations


def due(cohort_ids: list[int], week: int = 2, at: datetime = MONDAY) -> list[Due]:
    return [Due(cohort_id, week, "expectations", at) for cohort_id in cohort_ids]


async def test_many_cohorts_open_as_one_at_a_time_would(db: Database, settings: Settings) -> None:
    ids = [(await class_with_students(db, f"C{n}", students=3)).id for n in range(5)]
    single = await open_round(db, ids[0], 1, "expectations", MONDAY, MONDAY)
    bulk = await open_rounds(db, due(ids[1:], week=1), MONDAY, per_transaction=2)
    assert single.created and single.queued == 3
    assert sorted(r.round.cohort_id for r in bulk.rounds) == ids[1:] and not bulk.failed
    assert all(r.created and r.queued == 3 and r.closed_round_ids == [] for r in bulk.rounds)

    week2 = await open_rounds(db, due(ids), MONDAY)  # closes each cohort's week 1
    closed = {r.round.cohort_id: r.closed_round_ids for r in week2.rounds}
    assert all(len(closed[i]) == 1 for i in ids)
    assert [(r.week, r.status) for r in await rounds_of(db)] == [(1, "closed")] * 5 + [
        (2, "open")
    ] * 5
    assert await outbox_by_kind(db) == {"expectations": 30}

    again = await open_rounds(db, due(ids), MONDAY)  # idempotent: nothing new
    assert again.rounds == [] and again.failed == []
    assert (await open_round(db, ids[0], 2, "expectations", MONDAY, MONDAY)).created is False


async def test_two_instances_opening_many_cohorts_open_each_once(
    db: Database, settings: Settings, database_url: str
) -> None:
    ids = [(await class_with_students(db, f"C{n}", students=3)).id for n in range(24)]
    other = Database(database_url)  # a second instance: its own engine and connections
    try:
        results = await asyncio.gather(
            open_rounds(db, due(ids), MONDAY, per_transaction=5),
            open_rounds(other, due(list(reversed(ids))), MONDAY, per_transaction=5),
        )
    finally:
        await other.dispose()
    opened = [r.round.cohort_id for result in results for r in result.rounds]
    assert sorted(opened) == ids  # every round by exactly one of them
    assert not results[0].failed and not results[1].failed
    assert len(await rounds_of(db)) == 24
    assert await outbox_by_kind(db) == {"expectations": 72}  # checks no student got two


async def test_a_broken_cohort_costs_only_its_own_round(db: Database, settings: Settings) -> None:
    ids = [(await class_with_students(db, f"C{n}", students=2)).id for n in range(4)]
    async with db.transaction() as session:  # the expectations name the reflection's time
        await CohortRepo(session).update_settings(ids[2], reflection_at="someday")
    result = await open_rounds(db, due(ids), MONDAY)
    assert sorted(r.round.cohort_id for r in result.rounds) == [ids[0], ids[1], ids[3]]
    assert [d.cohort_id for d in result.failed] == [ids[2]]
    assert await outbox_by_kind(db) == {"expectations": 6}
