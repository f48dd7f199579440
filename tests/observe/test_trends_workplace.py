"""The regiegroep's trends with the workplace's view: per skill across classes,
only for at least five observed students, beside the self-ratings; the month's field signals
without who sent them."""

from __future__ import annotations

from datetime import timedelta

from bot import trends
from bot.trends import render_trends
from storage.db import Database
from storage.repos.observations import ObservationRepo, SignalRepo
from storage.repos.rounds import RoundRepo
from tests.factories import add_member, add_students, make_cohort
from tests.observer.helpers import NOW, PLAN, add_round, week_time

NAMES = ["Anna de Vries", "Bram Bakker", "Cem Yilmaz", "Daan Smit", "Eva Janssen", "Fleur Mulder"]


async def test_workplace_view_beside_self_ratings_for_groups_of_five(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, "PW3A", plan=PLAN)
        students = await add_students(s, cohort, NAMES)
        ellen = await add_member(s, cohort, "Ellen Werkplek", role="werkbegeleider")
        await add_round(s, cohort, 1, {sid: {"klimaat": 4, "samenwerken": 3} for sid in students})
        when = week_time(1) + timedelta(hours=2)
        observation, _ = await RoundRepo(s).insert_if_absent(cohort, 1, "observation", when)
        observations = ObservationRepo(s)
        for sid in students[:5]:  # klimaat observed for five students: shown
            await observations.save(observation.id, ellen, sid, "klimaat", level=1, text=None,
                                    now=when)  # fmt: skip
        for sid in students[:4]:  # samenwerken for four: hidden
            await observations.save(observation.id, ellen, sid, "samenwerken", level=3,
                                    text=None, now=when)  # fmt: skip
        await observations.save(observation.id, ellen, students[5], "klimaat", level=None,
                                text=None, now=when)  # niet gezien: no evidence  # fmt: skip
        signals = SignalRepo(s)
        await signals.add(cohort, ellen, "werkbegeleider", "Meldcode onbekend bij stagiairs",
                          None, NOW - timedelta(days=3))  # fmt: skip
        await signals.add(cohort, ellen, "werkbegeleider", "Het klimaat is onrustig",
                          "klimaat", NOW - timedelta(days=1))  # fmt: skip
        await signals.add(cohort, ellen, "werkbegeleider", "Oud signaal", None,
                          NOW - timedelta(days=60))  # fmt: skip
        report = await trends.trends(s, [cohort], NOW)

    [klimaat] = report.workplace
    assert (klimaat.skill, klimaat.students, klimaat.level, klimaat.own) == (
        "Veilig klimaat", 5, 1.0, 4.0
    )  # fmt: skip
    assert [(x.text, x.skill) for x in report.signals] == [
        ("Het klimaat is onrustig", "Veilig klimaat"),
        ("Meldcode onbekend bij stagiairs", None),
    ]
    text = render_trends(report, "nl")
    assert "Veilig klimaat: werkplek oefenen (1,0) · eigen inschatting 4,0 · 5 studenten" in text
    assert "Samenwerken: werkplek" not in text  # four students: too few
    assert "„Het klimaat is onrustig” (Veilig klimaat)" in text
    assert "Oud signaal" not in text and "Ellen" not in text
    for name in NAMES:
        assert name not in text
