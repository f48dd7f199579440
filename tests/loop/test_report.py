"""The regiegroep's report: from alert to agreement to outcome, across classes and per skill,
only for groups of at least five students (stored data on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from bot.trends import render_trends, trends
from storage.db import Database
from storage.repos.alerts import AlertRepo
from storage.repos.loop import AgreementRepo
from tests.factories import add_student, make_cohort
from tests.mentor.helpers import PLAN, START

WEEK = timedelta(weeks=1)


async def test_report_shows_the_loop_for_groups_of_five_or_more(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        students = [await add_student(s, cohort, f"Student {n}", 7000 + n) for n in range(6)]
        alerts = AlertRepo(s)
        agreements = AgreementRepo(s)
        ids = []
        for member in students:  # six students low on "klimaat"
            alert_id = await alerts.raise_new(
                cohort, f"student_gap:{member}:klimaat", kind="student_gap", member_id=member,
                skill="klimaat", evidence={}, week=2, now=START,
            )  # fmt: skip
            assert alert_id is not None
            ids.append(alert_id)
        for n, (alert_id, member) in enumerate(zip(ids, students, strict=True)):
            if n < 4:  # four agreements: three within two weeks, one after three weeks
                made = START + (3 * WEEK if n == 3 else timedelta(days=3))
                await agreements.create(
                    cohort_id=cohort, member_id=member, alert_id=alert_id, skill="klimaat",
                    text="Oefenen.", status="active", made_by="Marit", made_by_user_id=1,
                    made_at=made, made_week=2, follow_up_week=4,
                    outcome=("gelukt", "gelukt", "nog_niet", None)[n], share_workplace=False,
                    outcome_applied=True, on_agenda=False,
                )  # fmt: skip
        await alerts.resolve(ids[0], START + 2 * WEEK, "after_agreement", 4)
        await alerts.resolve(ids[1], START + 4 * WEEK)
        for member in students[:2]:  # two on "samenwerken": too few to show
            await alerts.raise_new(
                cohort, f"student_gap:{member}:samenwerken", kind="student_gap",
                member_id=member, skill="samenwerken", evidence={}, week=2, now=START,
            )  # fmt: skip
    async with db.transaction() as s:
        report = await trends(s, [cohort], START + 6 * WEEK)
    text = render_trends(report, "nl")
    section = text[text.index("Van signaal naar leerafspraak") :].splitlines()
    assert section == [
        "Van signaal naar leerafspraak (laatste 12 weken, groepen van minstens 5 studenten)",
        "• Alle vaardigheden: 8 signalen, 38% met een leerafspraak binnen 2 weken; uitkomst: "
        "2 gelukt, 0 deels, 1 nog niet; mediaan 3,0 weken tot opgelost",
        "• Zorgt voor een veilig pedagogisch klimaat: 6 signalen, 50% met een leerafspraak "
        "binnen 2 weken; uitkomst: 2 gelukt, 0 deels, 1 nog niet; mediaan 3,0 weken tot opgelost",
        "1 vaardigheden met signalen over minder dan 5 studenten zijn weggelaten.",
    ]
    assert "Student" not in text  # no names, ever


async def test_report_hides_the_loop_of_a_small_class(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        students = [await add_student(s, cohort, f"Student {n}", 7100 + n) for n in range(6)]
        for member in students[:4]:  # alerts about four students only
            await AlertRepo(s).raise_new(
                cohort, f"student_gap:{member}:klimaat", kind="student_gap", member_id=member,
                skill="klimaat", evidence={}, week=2, now=START,
            )  # fmt: skip
    async with db.transaction() as s:
        text = render_trends(await trends(s, [cohort], START + 6 * WEEK), "nl")
    assert "Nog geen signalen over minstens 5 studenten." in text
    assert "signalen, " not in text
