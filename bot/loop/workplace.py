"""The werkbegeleider's copy of an agreement: whether it is shared by default, the
mentor's button to change that, and the short message to the student's werkbegeleiders.

A workplace skill is a skill of the plan with a `work_process`: one of the qualification
file's work processes, which the student carries out at the stage and the werkbegeleider
sees. An agreement about such a skill is shared by default; one about another skill or
without a skill is not (the mentor can still share it with the button).

The copy carries the student's first name, the agreement's line and the follow-up week,
nothing else of the student (never self-ratings, texts or alerts)."""

from __future__ import annotations

from datetime import datetime

from bot.loop.common import TEAM_LANGUAGE, cohort_of, language_of
from bot.outbox.queue import Outgoing, Queued, queue
from bot.plans.store import plan_for
from bot.texts import t
from storage.db import Session
from storage.records import AgreementRecord, MemberRecord
from storage.repos import MemberRepo
from storage.repos.observations import SupervisionRepo

SHARE = "s"  # the button's action: ag:<id>:s turns the copy on or off


async def werkbegeleiders(session: Session, student_id: int) -> list[MemberRecord]:
    """The student's current, linked werkbegeleiders."""
    members = MemberRepo(session)
    found = []
    for link in await SupervisionRepo(session).of_student(student_id):
        wb = await members.get(link.werkbegeleider_id)
        if wb is not None and wb.is_active:
            found.append(wb)
    return found


async def default_share(session: Session, student: MemberRecord, skill: str | None) -> bool:
    """Yes for a workplace skill of the plan when the student has a werkbegeleider."""
    if skill is None or not await werkbegeleiders(session, student.id):
        return False
    plan = await plan_for(session, await cohort_of(session, student.cohort_id))
    known = next((s for s in plan.skills if s.key == skill), None)
    return known is not None and known.work_process is not None


async def share_button(session: Session, draft: AgreementRecord) -> list[tuple[str, str]]:
    """The copy's on/off button under the week question; none when nobody could get it."""
    if not await werkbegeleiders(session, draft.member_id):
        return []
    key = "loop.agreement.share_on" if draft.share_workplace else "loop.agreement.share_off"
    return [(t(key, TEAM_LANGUAGE), f"ag:{draft.id}:{SHARE}")]


def first_name(student: MemberRecord) -> str:
    return student.name.split()[0] if student.name.split() else student.name


async def send_copies(
    session: Session, agreement: AgreementRecord, student: MemberRecord, week: int, now: datetime
) -> list[str]:
    """Queue the copy to each linked werkbegeleider who can be reached; their names."""
    if not agreement.share_workplace:
        return []
    reached = []
    for wb in await werkbegeleiders(session, student.id):
        if wb.chat_id is None:
            continue
        lang = await language_of(session, wb)
        text = t("loop.agreement.to_werkbegeleider", lang, student=first_name(student),
                 text=agreement.text or "", week=week)  # fmt: skip
        item = Queued(f"agreement:{agreement.id}:wb:{wb.id}", wb.chat_id, "loop", Outgoing(text),
                      wb.cohort_id, member_id=wb.id, priority=5)  # fmt: skip
        await queue(session, [item], now)
        reached.append(wb.name)
    return reached
