"""A class finishes its reflection in any order; the team gets the same alerts (on SQLite and
PostgreSQL). A check runs after each completed reflection, and the class's figure of the open
round grows with each one: a student gap the class gap may still fold waits for it, and one
the class can no longer fold is told during the round."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.gaps.alerts import evaluate_cohort
from storage.db import Database
from storage.repos.alerts import AlertRepo
from storage.repos.rounds import RoundRepo
from tests.factories import add_mentor, add_student, make_cohort
from tests.mentor.helpers import PLAN, add_week, week_time

# klimaat in week 1 (closed) and week 2 (open): students 0 and 1 rate it 1 both weeks, the
# rest of the class 2 or 3 (a class gap once enough of them answered) or 4 and 5 (none)
CLASS_LOW = ([1, 1, 2, 3, 2, 2, 3, 2], [1, 1, 2, 2, 3, 2, 2, 3])
CLASS_FINE = ([1, 1, 5, 4, 5, 4, 5, 4], [1, 1, 4, 5, 4, 4, 5, 4])
ORDERS = [list(range(8)), list(range(8))[::-1]] + [
    random.Random(seed).sample(range(8), 8) for seed in (1, 2, 3)
]


async def _run(
    db: Database, weeks: tuple[list[int], list[int]], order: list[int]
) -> tuple[list[set[str]], set[str]]:
    """The fingerprints raised after each completion of week 2, and at its close."""
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Mentor Marit", 900)
        ids = [await add_student(s, cohort, f"Student {i}", 300 + i) for i in range(8)]
        await add_week(s, cohort, 1, {sid: _rated(r) for sid, r in zip(ids, weeks[0], strict=True)})
        round_2 = await add_week(s, cohort, 2, {}, enrolled=ids)
    during: list[set[str]] = []
    for i in order:
        async with db.transaction() as s:
            await add_week(s, cohort, 2, {ids[i]: _rated(weeks[1][i])}, enrolled=ids)
            raised = await evaluate_cohort(s, cohort, week_time(2))
            during.append({await _fingerprint(s, a) for a in raised})
    async with db.transaction() as s:
        await RoundRepo(s).close(round_2, week_time(2))
        closing = {await _fingerprint(s, a) for a in await evaluate_cohort(s, cohort, week_time(2))}
    return during, closing


def _rated(klimaat: int) -> dict[str, int]:
    return {"klimaat": klimaat, "samenwerken": 4}


async def _fingerprint(s: AsyncSession, alert_id: int) -> str:
    alert = await AlertRepo(s).get(alert_id)
    assert alert is not None
    return alert.fingerprint


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join(map(str, o)))
async def test_a_class_gap_takes_in_its_students_gaps_in_any_order(
    db: Database, order: list[int]
) -> None:
    during, closing = await _run(db, CLASS_LOW, order)
    raised = [fp for batch in [*during, closing] for fp in batch]
    assert raised == ["class_gap:-:klimaat"]  # one alert for the class, not three
    assert closing == set()  # told while the round was open, once enough of the class answered


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join(map(str, o)))
async def test_a_student_gap_the_class_cannot_fold_is_told_during_the_round(
    db: Database, order: list[int]
) -> None:
    during, closing = await _run(db, CLASS_FINE, order)
    raised = [fp for batch in during for fp in batch]
    assert len(raised) == 2 and {fp.split(":")[0] for fp in raised} == {"student_gap"}
    assert closing == set()  # not held until the round closed
