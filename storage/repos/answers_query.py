"""Read-only queries over a cohort's rounds, participations and answers, for the mentor side
(gap evaluation, overviews, charts, export). Plain dataclasses out, no Telegram, no rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
    Text,
    cast,
    false,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Member, Participation, Round, StudentQuestion
from storage.records import (
    AnswerRecord,
    QuestionRecord,
    RoundRecord,
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

    async def round_rows(
        self, round_ids: list[int]
    ) -> tuple[list[tuple[int, int, bool]], list[AnswerRecord]]:
        """`participation_rows` and `answer_rows` of these rounds in one round trip: the
        per-answer gap check reads the open rounds' rows after every completed reflection."""
        if not round_ids:
            return [], []
        answers = (
            select(
                literal(0).label("tag"),
                Answer.round_id.label("round_id"),
                Answer.member_id.label("member_id"),
                Answer.id.label("row_id"),
                Answer.question_key.label("question_key"),
                Answer.kind.label("kind"),
                Answer.skill.label("skill"),
                Answer.rating.label("rating"),
                Answer.choice.label("choice"),
                Answer.text.label("text"),
                Answer.skipped.label("skipped"),
                Answer.answered_at.label("moment"),
            )
            .join(Member, Member.id == Answer.member_id)
            .where(Answer.round_id.in_(round_ids))
        )
        # a participation row: its completion time in the moment column (null: not done)
        taking = select(
            literal(1),
            Participation.round_id,
            Participation.member_id,
            Participation.id,
            cast(null(), String),
            cast(null(), String),
            cast(null(), String),
            cast(null(), Integer),
            cast(null(), String),
            cast(null(), Text),
            false(),
            Participation.completed_at,
        ).where(Participation.round_id.in_(round_ids))
        both = union_all(answers, taking).subquery()
        rows = await self.session.execute(
            select(both).order_by(both.c.tag, both.c.round_id, both.c.member_id, both.c.row_id)
        )
        participations: list[tuple[int, int, bool]] = []
        records: list[AnswerRecord] = []
        for (
            tag,
            round_id,
            member_id,
            _id,
            key,
            kind,
            skill,
            rating,
            choice,
            text,
            skipped,
            at,
        ) in rows:
            if tag == 1:
                participations.append((round_id, member_id, at is not None))
            elif not key.startswith("__"):
                records.append(AnswerRecord(round_id, member_id, key, kind, skill, rating,
                                            choice, text, bool(skipped), at))  # fmt: skip
        return participations, records

    async def rounds_in(
        self, cohort_id: int, kind: str, statuses: tuple[str, ...]
    ) -> list[tuple[RoundRecord, int, int]]:
        """The cohort's rounds of `kind` in `statuses`, by week (as `RoundRepo.of_cohort`),
        each with its numbers of answers and participations: a cheap sign that rows of a
        round were deleted (retention, erasure) since it was last read."""
        answers = select(func.count()).where(Answer.round_id == Round.id).scalar_subquery()
        taking = select(func.count()).where(Participation.round_id == Round.id).scalar_subquery()
        rows = await self.session.execute(
            select(
                Round.id, Round.week, Round.status, Round.due_at, Round.closed_at, answers, taking
            )
            .where(Round.cohort_id == cohort_id, Round.kind == kind, Round.status.in_(statuses))
            .order_by(Round.week, Round.id)
        )
        return [
            (RoundRecord(round_id, cohort_id, week, kind, status, due_at, closed_at), n, p)
            for round_id, week, status, due_at, closed_at, n, p in rows
        ]


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
