"""The personal data around werkbegeleiders: what a student's
/mijngegevens shows of the observations about them, a werkbegeleider's own /mijngegevens, and
a werkbegeleider leaving with /stop. Kept apart from `privacy` (the student's side)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord, ObservationRecord
from storage.repos import CohortRepo, MemberRepo
from storage.repos.loop import AgreementRepo
from storage.repos.observations import (
    NOTE_SKILL,
    ObservationRepo,
    SignalRepo,
    SupervisionRepo,
    WerkbegeleiderRepo,
)
from storage.repos.privacy import ErasureRepo

ROLE = "werkbegeleider"
STOPPED = "stopped"
LEVEL_WORDS = ("nooit", "oefenen", "voldoende", "goed")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _observation(o: ObservationRecord) -> dict[str, Any]:
    if o.skill == NOTE_SKILL:
        return {"week": o.week, "line": o.text, "at": _iso(o.answered_at)}
    level = "niet gezien" if o.level is None else LEVEL_WORDS[o.level]
    return {"week": o.week, "skill": o.skill, "observation": level, "at": _iso(o.answered_at)}


async def observations_about(session: Session, student_id: int) -> list[dict[str, Any]]:
    """The workplace's observations about a student (for the student's own export). The
    werkbegeleider is named: the student linked them and knows who they are."""
    members = MemberRepo(session)
    names: dict[int, str] = {}
    result = []
    for o in await ObservationRepo(session).about_student(student_id):
        if o.werkbegeleider_id not in names:
            wb = await members.get(o.werkbegeleider_id)
            names[o.werkbegeleider_id] = wb.name if wb is not None else "?"
        result.append({**_observation(o), "by": names[o.werkbegeleider_id]})
    return result


async def werkbegeleider_export(
    session: Session, member: MemberRecord, now: datetime
) -> dict[str, Any]:
    """Everything kept about a werkbegeleider: membership, links, observations, their answers
    about shared agreements, signals."""
    cohort = await CohortRepo(session).get(member.cohort_id)
    members = MemberRepo(session)
    links = []
    for link in await SupervisionRepo(session).all_of(member.id):
        student = await members.get(link.student_id)
        links.append(
            {
                "student": student.name if student is not None else None,
                "linked_at": _iso(link.linked_at),
                "ended_at": _iso(link.ended_at),
            }
        )
    names = {s.id: s.name for s in await members.in_cohort(member.cohort_id, "student")}
    observations = [
        {**_observation(o), "student": names.get(o.student_id)}
        for o in await ObservationRepo(session).by_werkbegeleider(member.id)
    ]
    agreement_answers = [
        {"student": names.get(a.member_id), "agreement": a.text, "answer": a.workplace_outcome,
         "line": a.workplace_note, "at": _iso(a.workplace_outcome_at)}
        for a in await AgreementRepo(session).answered_by(member.id)
    ]  # fmt: skip
    signals = [
        {"text": s.text, "skill": s.skill, "sent_at": _iso(s.sent_at)}
        for s in await SignalRepo(session).of_member(member.id)
    ]
    return {
        "format": "mentorbot-mijngegevens-1",
        "created_at": _iso(now),
        "membership": {
            "name": member.name,
            "cohort": cohort.name if cohort is not None else None,
            "role": member.role,
            "status": member.status,
            "joined_at": _iso(member.joined_at),
            "consent": {
                "given_at": _iso(member.consent_at),
                "text_version": member.consent_version,
            },
            "telegram_user_id": member.telegram_user_id,
            "telegram_chat_id": member.chat_id,
        },
        "students": links,
        "observations": observations,
        "agreement_answers": agreement_answers,
        "signals": signals,
    }


@dataclass(frozen=True)
class WerkbegeleiderStopped:
    member_id: int
    cohort_id: int
    deleted: bool


async def stop_werkbegeleider(
    session: Session, member: MemberRecord, *, delete_data: bool, now: datetime
) -> WerkbegeleiderStopped | None:
    """End a werkbegeleider's membership: no more requests, links ended, the team told;
    their observations deleted or kept as MENTORBOT_DELETE_ON_STOP says. None on a repeat."""
    repo = WerkbegeleiderRepo(session)
    if not await repo.claim_stop(member.id):
        return None
    students = [
        s.name
        for link in await SupervisionRepo(session).of_werkbegeleider(member.id)
        if (s := await MemberRepo(session).get(link.student_id)) is not None
    ]
    await repo.end_links(member.id, now)
    await ErasureRepo(session).cancel_pending(member.id, STOPPED)
    notice = t("observe.team_stopped", "nl", name=member.name, students=", ".join(students) or "-")
    await notify_team(session, member.cohort_id, f"stopped:{member.id}", Outgoing(notice), now)
    if delete_data:
        await repo.delete_werkbegeleider(member.id)
    if member.telegram_user_id is not None:
        await ErasureRepo(session).forget_user_settings(member.telegram_user_id)
    return WerkbegeleiderStopped(member.id, member.cohort_id, delete_data)
