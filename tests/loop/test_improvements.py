"""Who improves, for the digest's Compliment buttons (stored data, SQLite and PostgreSQL): a
skill a point up over the last four asks, a resolved gap (and how), a streak of four."""

from __future__ import annotations

from bot.gaps.cohort_data import load_cohort_data
from bot.loop.digest import improvements
from storage.db import Database
from storage.repos.alerts import AlertRepo
from tests.factories import add_student, make_cohort
from tests.mentor.helpers import PLAN, START, add_week


async def test_rising_skill_resolved_gap_and_streak(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        anna = await add_student(s, cohort, "Anna de Vries", 9001)  # 2 → 3, four in a row
        bram = await add_student(s, cohort, "Bram Bakker", 9002)  # steady 4, four in a row
        cem = await add_student(s, cohort, "Cem Yilmaz", 9003)  # skipped week 2, then rising 5
        weeks = {
            1: {anna: 2, bram: 4, cem: 3},
            2: {anna: 2, bram: 4},
            3: {anna: 3, bram: 4, cem: 3},
            4: {anna: 3, bram: 4, cem: 4},
        }
        for week, by_student in weeks.items():
            ratings = {m: {"klimaat": r, "samenwerken": 4} for m, r in by_student.items()}
            await add_week(s, cohort, week, ratings)
        alerts = AlertRepo(s)
        gap = await alerts.raise_new(
            cohort, f"student_gap:{anna}:klimaat", kind="student_gap", member_id=anna,
            skill="klimaat", evidence={}, week=2, now=START,
        )  # fmt: skip
        assert gap is not None
        await alerts.resolve(gap, START, "after_agreement", 4)
        data = await load_cohort_data(s, cohort)
        assert data is not None
        found = [(i.member_id, i.line, i.alert_id) for i in await improvements(s, data, "nl")]
    klimaat = "Zorgt voor een veilig pedagogisch klimaat"
    assert found == [
        (anna, f"Anna de Vries — {klimaat}: opgelost na afspraak", gap),
        (anna, f"Anna de Vries — {klimaat}: zelfbeoordeling van 2 naar 3", None),
        (cem, f"Cem Yilmaz — {klimaat}: zelfbeoordeling van 3 naar 4", None),
        (anna, "Anna de Vries — 4 reflecties op rij ingevuld", None),
        (bram, "Bram Bakker — 4 reflecties op rij ingevuld", None),
    ]  # Cem missed week 2: no streak; Bram's steady 4 is no rise
