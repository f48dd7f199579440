"""Shared steps of the privacy tests: a class with a mentor and two students who answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from storage.models import Alert, Member, StudentQuestion
from tests.harness import Harness
from tgsandbox import SandboxUser, SentMessage


@dataclass
class Klas:
    cohort_id: int
    mentor: SandboxUser
    anna: SandboxUser
    bram: SandboxUser
    anna_id: int
    bram_id: int


async def count(h: Harness, model: type, *where: Any) -> int:
    async with h.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def member_id_of(h: Harness, user: SandboxUser) -> int:
    async with h.db.transaction() as s:
        found = await s.scalar(select(Member.id).where(Member.telegram_user_id == user.id))
    assert found is not None
    return int(found)


def is_question(message: SentMessage) -> bool:
    return "Vraag " in (message.text or "") and " van " in (message.text or "")


async def answer_ratings(h: Harness, user: SandboxUser, ratings: list[str]) -> None:
    """Answer the open reflection's first questions with these ratings."""
    question = await h.api.wait_for_message(
        user, lambda m: "reflectie van week 1" in (m.text or ""), timeout=20
    )
    for rating in ratings:
        mark = h.api.mark(user)
        await h.api.press(user, question, rating)
        question = await h.api.wait_for_message(user, is_question, since=mark)


async def klas(h: Harness) -> Klas:
    """A cohort with a mentor and two students; both rated the first two questions of the
    week-1 reflection, asked the team something, and have an alert about them."""
    cohort_id = await h.cohort()
    mentor = h.api.add_user("Marit", "Jansen")
    welcome = await h.say(mentor, f"/start {await h.code(cohort_id, 'mentor')}")
    assert "mentor" in welcome.text
    anna, bram = h.api.add_user("Anna", "de Vries"), h.api.add_user("Bram", "Bakker")
    for user in (anna, bram):
        await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    await answer_ratings(h, anna, ["2", "4"])
    await answer_ratings(h, bram, ["5", "5"])
    await h.say(anna, "/vraag Mag ik een andere stageplek zoeken?")
    await h.say(bram, "/vraag Bram wil iets weten over de toets")
    anna_id, bram_id = await member_id_of(h, anna), await member_id_of(h, bram)
    async with h.db.transaction() as s:
        question = await s.scalar(
            select(StudentQuestion).where(StudentQuestion.member_id == anna_id)
        )
        assert question is not None
        question.answer_text = "Ja, bespreek het maandag met ons."
        question.answered_by = "Marit Jansen"
        for member_id, skill in ((anna_id, "veilig-klimaat"), (bram_id, "geheim-bram")):
            s.add(
                Alert(
                    cohort_id=cohort_id,
                    fingerprint=f"student_gap:{member_id}:{skill}",
                    open_key=f"student_gap:{member_id}:{skill}",
                    kind="student_gap",
                    member_id=member_id,
                    skill=skill,
                    evidence={
                        "weeks": [1],
                        "items": [
                            {"week": 1, "student_id": member_id, "skill": skill, "rating": 2,
                             "text": None, "note": "rating"},
                        ],
                    },
                    raised_week=1,
                )
            )  # fmt: skip
        s.add(
            Alert(
                cohort_id=cohort_id,
                fingerprint="class_gap:-:samenwerken",
                open_key="class_gap:-:samenwerken",
                kind="class_gap",
                skill="samenwerken",
                evidence={
                    "weeks": [1],
                    "items": [
                        {"week": 1, "student_id": anna_id, "skill": "samenwerken", "rating": 2,
                         "text": None, "note": "rating"},
                        {"week": 1, "student_id": bram_id, "skill": "samenwerken", "rating": 1,
                         "text": None, "note": "rating"},
                    ],
                },
                raised_week=1,
            )
        )  # fmt: skip
    return Klas(cohort_id, mentor, anna, bram, anna_id, bram_id)
