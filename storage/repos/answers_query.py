"""Read-only queries over a cohort's rounds, participations and answers, for the mentor side
(gap evaluation, overviews, charts, export). Plain dataclasses out, no Telegram, no rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Member, Participation, Round, StudentQuestion
from storage.records import (
    AnswerRecord,
    QuestionRecord,
    StoredAnswer,
    StoredParticipation,
)


class AnswersQuery:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def answers(
        self,
        cohort_id: int,
        kind: str = "reflection",
        member_id: int | None = None,
    ) -> list[StoredAnswer]:
        """Answers to the cohort's rounds of `kind`, by week, student name and question."""
        query = (
            select(Answer, Round.week, Member.name)
            .join(Round, Round.id == Answer.round_id)
            .join(Member, Member.id == Answer.member_id)
            .where(Round.cohort_id == cohort_id, Round.kind == kind)
        )
        if member_id is not None:
            query = query.where(Answer.member_id == member_id)
        query = query.order_by(Round.week, Member.name, Member.id, Answer.id)
        rows = await self.session.execute(query)
        return [
            StoredAnswer(
                a.round_id,
                a.member_id,
                a.question_key,
                a.kind,
                a.skill,
                a.rating,
                a.choice,
                a.text,
                a.skipped,
                a.answered_at,
                week=week,
                student=name,
            )
            for a, week, name in rows
        ]

    async def participations(self, round_ids: list[int]) -> list[StoredParticipation]:
        if not round_ids:
            return []
        rows = await self.session.scalars(
            select(Participation).where(Participation.round_id.in_(round_ids))
        )
        return [
            StoredParticipation(p.round_id, p.member_id, p.started_at, p.completed_at) for p in rows
        ]

    # -- narrow reads for the per-answer gap check (plain tuples, no ORM objects) ---------------

    async def answer_rows(self, round_ids: list[int]) -> list[AnswerRecord]:
        """The answers to these rounds, without internal keys (``__…``), read column by column
        (no ORM objects: the per-answer gap check reads many)."""
        if not round_ids:
            return []
        rows = await self.session.execute(
            select(
                Answer.round_id,
                Answer.member_id,
                Answer.question_key,
                Answer.kind,
                Answer.skill,
                Answer.rating,
                Answer.choice,
                Answer.text,
                Answer.skipped,
                Answer.answered_at,
            )
            .join(Member, Member.id == Answer.member_id)
            .where(Answer.round_id.in_(round_ids))
            .order_by(Answer.round_id, Answer.member_id, Answer.id)
        )
        return [AnswerRecord(*tuple(row)) for row in rows if not row[2].startswith("__")]

    async def participation_rows(self, round_ids: list[int]) -> list[tuple[int, int, bool]]:
        """(round id, member id, completed) of these rounds."""
        if not round_ids:
            return []
        rows = await self.session.execute(
            select(
                Participation.round_id,
                Participation.member_id,
                Participation.completed_at.is_not(None),
            ).where(Participation.round_id.in_(round_ids))
        )
        return [(r, m, bool(done)) for r, m, done in rows]


class QuestionsRepo:
    """Students' questions to the mentor team (/vraag) and the team's answers."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, cohort_id: int, member_id: int, text: str, now: datetime) -> int:
        """Store a new question; returns its number."""
        row = StudentQuestion(cohort_id=cohort_id, member_id=member_id, text=text, asked_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, question_id: int) -> QuestionRecord | None:
        row = await self.session.get(StudentQuestion, question_id)
        if row is None:
            return None
        return QuestionRecord(
            row.id,
            row.cohort_id,
            row.member_id,
            row.text,
            row.asked_at,
            row.answer_text,
            row.answered_by,
            row.answered_at,
        )

    async def answer(self, question_id: int, text: str, by: str, now: datetime) -> bool:
        """Store the answer; False when someone answered it first."""
        result = await self.session.execute(
            update(StudentQuestion)
            .where(StudentQuestion.id == question_id, StudentQuestion.answer_text.is_(None))
            .values(answer_text=text, answered_by=by[:200], answered_at=now)
        )
        return bool(getattr(result, "rowcount", 0))
