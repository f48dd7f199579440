"""Students' questions to their mentor team (/vraag and the button under the expectations)."""

from __future__ import annotations

from datetime import datetime

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team
from bot.texts import t
from storage.db import Session
from storage.models import StudentQuestion
from storage.records import MemberRecord
from storage.repos import CohortRepo

MAX_QUESTION = 2000


async def ask_team(session: Session, member: MemberRecord, text: str, now: datetime) -> int:
    """Store the question and queue it to the mentor team (in the team's language: Dutch)."""
    row = StudentQuestion(cohort_id=member.cohort_id, member_id=member.id, text=text, asked_at=now)
    session.add(row)
    await session.flush()
    cohort = await CohortRepo(session).get(member.cohort_id)
    body = t(
        "question.to_team",
        "nl",
        name=member.name,
        cohort=cohort.name if cohort else "",
        text=text,
        id=row.id,
    )
    await notify_team(
        session, member.cohort_id, f"question:{row.id}", Outgoing(body), now, kind="alert"
    )
    return row.id
