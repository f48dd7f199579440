"""The alert message of every kind of gap: who, what, the evidence, in Dutch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.gaps.alerts import evaluate_cohort
from bot.gaps.cache import GapCache
from storage.db import Database
from storage.models import Alert, OutboxMessage
from storage.repos import CohortRepo
from storage.repos.rounds import AnswerRepo, RoundRepo
from storage.repos.users import UserSettingsRepo
from tests.factories import add_mentor, add_student, make_cohort
from tests.mentor.helpers import PLAN, add_week, week_time


async def messages(db: Database, session: AsyncSession | None = None) -> dict[str, str]:
    if session is None:
        async with db.transaction() as s:
            return await messages(db, s)
    alerts = {a.id: a.kind for a in await session.scalars(select(Alert))}
    rows = list(await session.scalars(select(OutboxMessage)))
    return {alerts[int(r.dedupe_key.split(":")[1])]: r.payload["text"] for r in rows}


async def test_class_gap_and_silence_messages(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        # the starting rules (mode "spec"): their thresholds are fixed, so the scenario stays small
        await CohortRepo(s).update_settings(cohort, gap_settings={"mode": "spec"})
        await add_mentor(s, cohort, "Marit", 900)
        names = ["Anna", "Bram", "Cem", "Dewi", "Eva"]
        ids = [await add_student(s, cohort, n, 100 + i) for i, n in enumerate(names)]
        for week in (1, 2, 3, 4):
            ratings = {m: {"klimaat": 2 if i < 4 else 3, "samenwerken": 4}
                       for i, m in enumerate(ids) if not (i == 4 and week > 2)}  # fmt: skip
            await add_week(s, cohort, week, ratings, enrolled=ids)
        # the open round of week 4 makes nobody silent; once it closes, Eva's second miss counts
        await evaluate_cohort(s, cohort, week_time(4))
        assert set(await messages(db, s)) == {"class_gap"}
        await RoundRepo(s).close_others(cohort, "reflection", -1, week_time(5))
        await evaluate_cohort(s, cohort, week_time(5))
    text = await messages(db)
    assert set(text) == {"class_gap", "silence"}
    assert text["class_gap"].startswith("⚠️ Signaal voor de klas (PW3A): „Zorgt voor")
    assert "Week 4: klasgemiddelde 2,00, 4 van 4 studenten laag" in text["class_gap"]
    assert text["silence"].startswith("🔕 Signaal: Eva heeft de laatste 2 reflecties")
    assert "Week 4: geen antwoord" in text["silence"]


async def test_decline_message_in_spec_mode(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await CohortRepo(s).update_settings(cohort, gap_settings={"mode": "spec"})
        await add_mentor(s, cohort, "Marit", 900)
        fien = await add_student(s, cohort, "Fien", 101)
        for week, rating in enumerate([5, 5, 5, 4, 3, 3], start=1):
            await add_week(s, cohort, week, {fien: {"klimaat": rating, "samenwerken": rating}})
        await evaluate_cohort(s, cohort, week_time(6))
    text = await messages(db)
    assert "decline" in text
    # issue 15: the decline is told per skill, the skill named (no week means over skills)
    assert text["decline"].startswith("📉 Signaal: Fien geeft zichzelf lager op „Zorgt voor")
    assert (
        "Zelf op „Zorgt voor een veilig pedagogisch klimaat”: eerder 5 · 5 · 5, nu 4 · 3 · 3"
        in (text["decline"])
    )
    assert "Ook lager: „Werkt samen met betrokkenen”" in text["decline"]


async def test_alerts_go_out_in_the_teams_language(db: Database) -> None:
    """English when every mentor of the class chose it (/taal en), Dutch otherwise."""
    async with db.transaction() as s:
        english = await make_cohort(s, "PW3A", plan=PLAN)
        mixed = await make_cohort(s, "PW3B", plan=PLAN)
        for cohort, base in ((english, 900), (mixed, 950)):
            await add_mentor(s, cohort, "Marit", base)
            await add_mentor(s, cohort, "Joost", base + 1)
            anna = await add_student(s, cohort, "Anna", base + 10)
            for week in (1, 2):
                await add_week(s, cohort, week, {anna: {"klimaat": 1}})
        for user in (900, 901, 950):  # in the mixed team Joost (951) kept Dutch
            await UserSettingsRepo(s).set_language(user, "en")
        for cohort in (english, mixed):
            await evaluate_cohort(s, cohort, week_time(2))
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    by_chat = {r.chat_id: r.payload["text"] for r in rows}
    assert by_chat[900].startswith('⚠️ Alert: Anna rates themselves low on "Zorgt voor')
    assert "Self: 1 · 1 — Workplace: no observations yet" in by_chat[900]
    assert by_chat[900].endswith("More: /student Anna") and by_chat[901] == by_chat[900]
    assert by_chat[950].startswith("⚠️ Signaal: Anna geeft zichzelf laag op „Zorgt voor")
    assert by_chat[950].endswith("Meer: /student Anna")


async def test_a_warm_check_tells_the_team_in_the_language_chosen_since(db: Database) -> None:
    """The running bot keeps a class's closed rounds between checks (`Services.gap_cache`);
    a mentor's /taal en in between still reaches the next alert, on every backend."""
    cache = GapCache()
    async with db.transaction() as s:
        cohort = await make_cohort(s, plan=PLAN)
        await add_mentor(s, cohort, "Marit", 900)
        anna = await add_student(s, cohort, "Anna", 910)
        bram = await add_student(s, cohort, "Bram", 911)
        await add_week(s, cohort, 1, {anna: {"klimaat": 1}, bram: {"klimaat": 1}})
        open_round = await add_week(s, cohort, 2, {anna: {"klimaat": 1}}, enrolled=[anna, bram])
        await evaluate_cohort(s, cohort, week_time(2), cache)
    assert next(iter((await messages(db)).values())).startswith("⚠️ Signaal: Anna")
    async with db.transaction() as s:
        await UserSettingsRepo(s).set_language(900, "en")
        await AnswerRepo(s).save(open_round, bram, "rating-klimaat", kind="rating",
                                 skill="klimaat", now=week_time(2), rating=1)  # fmt: skip
        await RoundRepo(s).mark_completed(open_round, bram, week_time(2))
        await evaluate_cohort(s, cohort, week_time(2), cache)
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.chat_id for r in rows] == [900, 900]
    assert rows[1].payload["text"].startswith('⚠️ Alert: Bram rates themselves low on "Zorgt')
