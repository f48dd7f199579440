"""A class with a gap, and the steps of an agreement's life as a mentor and a student take
them in Telegram (through the sandbox server)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.gaps.alerts import evaluate_cohort
from tests.factories import add_mentor, add_student, make_cohort
from tests.harness import Harness
from tests.mentor.helpers import PLAN, add_week, week_time
from tgsandbox import SandboxUser, SentMessage

MONDAY_WEEK_3 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)  # the cohorts start on 2026-09-01


@dataclass
class Class:
    cohort: int
    marit: SandboxUser  # mentor
    anna: SandboxUser  # student with the gap on "klimaat"
    bram: SandboxUser  # student without a gap
    ids: dict[str, int]
    alert_id: int


async def class_with_gap(h: Harness, plan: str = PLAN) -> Class:
    """Weeks 1 and 2 stored (Anna rates "klimaat" 1), the alert raised and delivered; the
    clock on the Monday of week 3."""
    h.clock.set(MONDAY_WEEK_3)
    marit = h.api.add_user("Marit", "Jansen")
    anna = h.api.add_user("Anna", "de Vries")
    bram = h.api.add_user("Bram", "Bakker")
    async with h.db.transaction() as s:
        cohort = await make_cohort(s, plan=plan)
        await add_mentor(s, cohort, "Marit Jansen", marit.id)
        ids = {
            "anna": await add_student(s, cohort, "Anna de Vries", anna.id),
            "bram": await add_student(s, cohort, "Bram Bakker", bram.id),
        }
        for week in (1, 2):
            ratings = {ids["anna"]: {"klimaat": 1, "samenwerken": 4},
                       ids["bram"]: {"klimaat": 4, "samenwerken": 4}}  # fmt: skip
            await add_week(s, cohort, week, ratings)
        [alert_id] = await evaluate_cohort(s, cohort, week_time(2))
    h.state.live().sender.wake()
    return Class(cohort, marit, anna, bram, ids, alert_id)


async def alert_message(h: Harness, c: Class) -> SentMessage:
    return await h.api.wait_for_message(c.marit, lambda m: "Signaal" in (m.text or ""), since=0)


async def make_agreement(h: Harness, c: Class, line: str, week_label: str) -> SentMessage:
    """Afspraak under the alert, the line as a reply, then the week: the student's message."""
    alert = await alert_message(h, c)
    mark = h.api.mark(c.marit)
    await h.api.press(c.marit, alert, "Afspraak")
    ask = await h.api.wait_for_message(c.marit, since=mark)
    assert ask.text.startswith("✍️ Leerafspraak met Anna de Vries over „Zorgt voor een veilig")
    weeks = await h.say(c.marit, line, reply_to=ask)
    assert f"„{line}”" in weeks.text
    mark_anna = h.api.mark(c.anna)
    query = await h.api.press(c.marit, weeks, week_label)
    await h.api.wait_for_callback_answer(query)
    return await h.api.wait_for_message(c.anna, since=mark_anna)


async def reflection(h: Harness, c: Class, week: int) -> SentMessage:
    """Open the reflection of `week` (the clock on its Friday) and return Anna's first question."""
    h.clock.set(MONDAY_WEEK_3 + timedelta(weeks=week - 3, days=4))
    mark = h.api.mark(c.anna)
    await h.state.live().scheduler.push(c.cohort, "reflection", week=week)
    return await h.api.wait_for_message(
        c.anna, lambda m: f"reflectie van week {week}" in (m.text or ""), since=mark
    )


async def answer_reflection(
    h: Harness, user: SandboxUser, first: SentMessage, choices: dict[str, str]
) -> list[str]:
    """Answer every question: a rating or choice by the first label in `choices` that the
    question's text contains, else skip. Returns the questions' texts in order."""
    asked: list[str] = []
    message = first
    while "Vraag " in (message.text or ""):
        asked.append(message.text)
        mark = h.api.mark(user)
        label = next((v for k, v in choices.items() if k in message.text), "Overslaan")
        if label.startswith("text:"):
            await h.api.send_text(user, label[5:], reply_to=message)
        else:
            await h.api.press(user, message, label)
        message = await h.api.wait_for_message(
            user, lambda m: "Vraag " in (m.text or "") or "Klaar" in (m.text or ""), since=mark
        )
    # the alert check of a completed reflection (and what the agreements' answers do) runs
    # after the reply: the tests read its outcome, so they wait for it as a mentor would
    await h.state.live().alert_checks_done()
    return asked
