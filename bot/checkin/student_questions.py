"""Students' questions to their mentor team (/vraag and the button under the expectations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team, team_language
from bot.texts import t
from storage.models import StudentQuestion
from storage.records import MemberRecord
from storage.repos import CohortRepo

MAX_QUESTION = 2000


async def ask_team(session: AsyncSession, member: MemberRecord, text: str, now: datetime) -> int:
    """Store the question and queue it to the mentor team, in the team's language."""
    row = StudentQuestion(cohort_id=member.cohort_id, member_id=member.id, text=text, asked_at=now)
    session.add(row)
    await session.flush()
    cohort = await CohortRepo(session).get(member.cohort_id)
    body = t(
        "question.to_team",
        await team_language(session, member.cohort_id),
        name=member.name,
        cohort=cohort.name if cohort else "",
        text=text,
        id=row.id,
    )
    await notify_team(
        session, member.cohort_id, f"question:{row.id}", Outgoing(body), now, kind="alert"
    )
    return row.id
