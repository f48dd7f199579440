"""The weekly digest built from stored rounds and alerts, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.gaps.alerts import evaluate_cohort
from bot.gaps.digest import build_digest
from storage.db import Database
from storage.models import Alert
from storage.repos.alerts import AlertRepo
from tests.factories import add_mentor, add_student, make_cohort
from tests.mentor.helpers import PLAN, add_week, week_time


async def test_digest_reports_response_gaps_agenda_and_resolved_once(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Marit", 900)
        anna = await add_student(s, cohort, "Anna", 101)
        bram = await add_student(s, cohort, "Bram", 102)
        cem = await add_student(s, cohort, "Cem", 103)
        everyone = [anna, bram, cem]
        for week in (1, 2):
            ratings = {anna: {"klimaat": 1, "samenwerken": 4}, bram: {"klimaat": 4}}
            await add_week(s, cohort, week, ratings, enrolled=everyone)
        [alert_id] = [
            a
            for a in await evaluate_cohort(s, cohort, week_time(2))
            if (await AlertRepo(s).get(a)).member_id == anna  # type: ignore[union-attr]
        ]
        await AlertRepo(s).acknowledge(alert_id, "Marit", 2, week_time(2), discuss=True)

    async with db.transaction() as s:
        [text, chart] = await build_digest(s, cohort, 3, week_time(3))
    assert "Weekoverzicht PW3A — week 3" in text.text
    assert "Reflectie week 2: 2 van 3 ingevuld (67%)" in text.text
    assert "Niet ingevuld: Cem" in text.text
    assert "Anna" in text.text and "Agenda klassenbespreking" in text.text
    assert "Opgelost" not in text.text
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")

    async with db.transaction() as s:
        for week in (3, 4):
            ratings = {anna: {"klimaat": 4, "samenwerken": 4}, bram: {"klimaat": 4}, cem: {}}
            await add_week(s, cohort, week, ratings)
        await evaluate_cohort(s, cohort, week_time(4))
        row = await s.get(Alert, alert_id)
        assert row is not None and row.status == "resolved"
    async with db.transaction() as s:
        [text, _chart] = await build_digest(s, cohort, 5, week_time(5))
    assert "Opgelost sinds het vorige overzicht:" in text.text
    assert "✓ Anna — Zorgt voor een veilig pedagogisch klimaat" in text.text
    async with db.transaction() as s:
        [text, _chart] = await build_digest(s, cohort, 6, week_time(6))
    assert "Opgelost" not in text.text
