"""Students' questions to their mentor team (/vraag and the button under the expectations)."""

from __future__ import annotations

from datetime import datetime

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team, team_language
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord
from storage.repos import CohortRepo
from storage.repos.answers_query import QuestionsRepo

MAX_QUESTION = 2000


async def ask_team(session: Session, member: MemberRecord, text: str, now: datetime) -> int:
    """Store the question and queue it to the mentor team, in the team's language."""
    number = await QuestionsRepo(session).add(member.cohort_id, member.id, text, now)
    cohort = await CohortRepo(session).get(member.cohort_id)
    body = t(
        "question.to_team",
        await team_language(session, member.cohort_id),
        name=member.name,
        cohort=cohort.name if cohort else "",
        text=text,
        id=number,
    )
    await notify_team(
        session, member.cohort_id, f"question:{number}", Outgoing(body), now, kind="alert"
    )
    return number
