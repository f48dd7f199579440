"""Rounds, the students' progress through them, their answers and the question prompts."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for, insert_ignore
from storage.models import Answer, Cohort, Member, Participation, Prompt, Round, utcnow
from storage.records import AnswerRecord, CohortRecord, PromptRecord, RoundRecord, WeekStatus
from storage.repos.cohorts import to_record as cohort_record
from storage.repos.loop import to_follow_up
from storage.repos.opening import OpeningRepo

_ANSWER_COLUMNS = list(AnswerRecord.__dataclass_fields__)


@dataclass(frozen=True)
class Tap:
    """What a tapped button needs, read in one statement (`PromptRepo.for_tap`)."""

    prompt: PromptRecord
    round: RoundRecord
    cohort: CohortRecord  # the round's (its plan)
    answers: dict[str, AnswerRecord]  # the prompt's student's answers in the round so far
    agreements: bool  # whether the round asks about any of the student's agreements


def _round(row: Round) -> RoundRecord:
    return RoundRecord(
        row.id, row.cohort_id, row.week, row.kind, row.status, row.due_at, row.closed_at
    )


def _prompt(row: Prompt) -> PromptRecord:
    return PromptRecord(row.token, row.round_id, row.member_id, row.question_key, row.message_id)


def _answer(row: Any) -> AnswerRecord:  # an Answer, or a row of its columns
    return AnswerRecord(
        row.round_id,
        row.member_id,
        row.question_key,
        row.kind,
        row.skill,
        row.rating,
        row.choice,
        row.text,
        row.skipped,
        row.answered_at,
    )


# The statements of every tap, built once: building one (and its cache key) cost about as
# much as running it.
_ANSWER_VALUES = ("rating", "choice", "text", "skipped")


@functools.cache
def _answer_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE only where a value differs, RETURNING a row only when
    one was written (`AnswerRepo.save`; the values come with each execution)."""
    table = Answer.__table__
    statement = insert_for(dialect, table)  # type: ignore[arg-type]
    excluded = statement.excluded
    differs = or_(*(table.c[key].is_distinct_from(excluded[key]) for key in _ANSWER_VALUES))  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=["round_id", "member_id", "question_key"],
        set_={**{key: excluded[key] for key in _ANSWER_VALUES}, "updated_at": excluded.updated_at},
        where=differs,
    ).returning(table.c.round_id)  # type: ignore[attr-defined]


@functools.cache
def _new_prompt(dialect: str) -> Any:
    table = Prompt.__table__
    return (
        insert_for(dialect, table)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["round_id", "member_id", "question_key"])
        .returning(table.c.token)  # type: ignore[attr-defined]
    )


@functools.cache
def _for_tap() -> Any:
    """`PromptRepo.for_tap`'s statement (bound: `token`)."""
    table = Answer.__table__
    follow_ups = exists().where(to_follow_up(Prompt.member_id, Round.week, Round.id))
    return (
        select(
            Prompt,
            Round,
            Cohort,
            follow_ups.label("agreements"),
            *(table.c[name].label(f"a_{name}") for name in _ANSWER_COLUMNS),  # type: ignore[attr-defined]
        )
        .join(Round, Round.id == Prompt.round_id)
        .join(Cohort, Cohort.id == Round.cohort_id)
        .outerjoin(
            Answer,
            and_(Answer.round_id == Prompt.round_id, Answer.member_id == Prompt.member_id),
        )
        .where(Prompt.token == bindparam("token"))
    )


class RoundRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_if_absent(
        self, cohort_id: int, week: int, kind: str, due_at: datetime, status: str = "open"
    ) -> tuple[RoundRecord, bool]:
        """The round of (cohort, week, kind), created now if it did not exist yet."""
        values = {
            "cohort_id": cohort_id,
            "week": week,
            "kind": kind,
            "due_at": due_at,
            "status": status,
        }
        created = await insert_ignore(
            self.session,
            Round.__table__,
            [values],
            ("cohort_id", "week", "kind"),  # type: ignore[arg-type]
        )
        found = await self.find(cohort_id, week, kind)
        assert found is not None
        return found, created > 0

    async def find(self, cohort_id: int, week: int, kind: str) -> RoundRecord | None:
        row = await self.session.scalar(
            select(Round).where(
                Round.cohort_id == cohort_id, Round.week == week, Round.kind == kind
            )
        )
        return None if row is None else _round(row)

    async def get(self, round_id: int) -> RoundRecord | None:
        row = await self.session.get(Round, round_id)
        return None if row is None else _round(row)

    async def latest(
        self, cohort_id: int, kind: str, status: str | None = "open"
    ) -> RoundRecord | None:
        query = select(Round).where(Round.cohort_id == cohort_id, Round.kind == kind)
        if status is not None:
            query = query.where(Round.status == status)
        row = await self.session.scalar(query.order_by(Round.week.desc()).limit(1))
        return None if row is None else _round(row)

    async def close_others(
        self, cohort_id: int, kind: str, keep_id: int, now: datetime
    ) -> list[int]:
        """Close every open round of this kind but `keep_id`; returns the closed ids."""
        ids = list(
            await self.session.scalars(
                select(Round.id).where(
                    Round.cohort_id == cohort_id,
                    Round.kind == kind,
                    Round.status == "open",
                    Round.id != keep_id,
                )
            )
        )
        if ids:
            await self.session.execute(
                update(Round).where(Round.id.in_(ids)).values(status="closed", closed_at=now)
            )
        return ids

    async def close(self, round_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(Round)
            .where(Round.id == round_id, Round.status == "open")
            .values(status="closed", closed_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def of_cohort(self, cohort_id: int, kind: str | None = None) -> list[RoundRecord]:
        query = select(Round).where(Round.cohort_id == cohort_id)
        if kind is not None:
            query = query.where(Round.kind == kind)
        rows = await self.session.scalars(query.order_by(Round.week, Round.id))
        return [_round(row) for row in rows]

    async def discard_skipped(self, cohort_id: int, week: int, kind: str) -> None:
        """Delete the marker of a round skipped as too late (it has no messages or answers)."""
        await self.session.execute(
            delete(Round).where(
                Round.cohort_id == cohort_id,
                Round.week == week,
                Round.kind == kind,
                Round.status == "skipped",
            )
        )

    # -- participation -------------------------------------------------------------------

    async def add_participants(self, round_id: int, member_ids: list[int]) -> None:
        await OpeningRepo(self.session).participations([(round_id, m) for m in member_ids])

    async def mark_started(self, round_id: int, member_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Participation)
            .where(
                Participation.round_id == round_id,
                Participation.member_id == member_id,
                Participation.started_at.is_(None),
            )
            .values(started_at=now)
        )

    async def mark_completed(self, round_id: int, member_id: int, now: datetime) -> bool:
        """True only the first time: the closing message and alert check happen once."""
        result = await self.session.execute(
            update(Participation)
            .where(
                Participation.round_id == round_id,
                Participation.member_id == member_id,
                Participation.completed_at.is_(None),
            )
            .values(completed_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def is_completed(self, round_id: int, member_id: int) -> bool:
        done = await self.session.scalar(
            select(Participation.completed_at).where(
                Participation.round_id == round_id, Participation.member_id == member_id
            )
        )
        return done is not None

    async def unfinished(self, round_id: int) -> list[int]:
        """Active students of the round who have not completed it."""
        rows = await self.session.scalars(
            select(Participation.member_id)
            .join(Member, Member.id == Participation.member_id)
            .where(
                Participation.round_id == round_id,
                Participation.completed_at.is_(None),
                Member.status == "active",
            )
        )
        return list(rows)


class AnswerRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(
        self,
        round_id: int,
        member_id: int,
        question_key: str,
        *,
        kind: str,
        skill: str | None,
        now: datetime,
        rating: int | None = None,
        choice: str | None = None,
        text: str | None = None,
        skipped: bool = False,
    ) -> bool:
        """Store or change one answer; True when something changed (a double tap is not).

        One statement on both databases: INSERT … ON CONFLICT DO UPDATE only where a value
        differs, RETURNING a row only when one was written."""
        values = {
            "round_id": round_id, "member_id": member_id, "question_key": question_key,
            "kind": kind, "skill": skill, "answered_at": now, "updated_at": now,
            "rating": rating, "choice": choice, "text": text, "skipped": skipped,
        }  # fmt: skip
        statement = _answer_upsert(dialect_name(self.session))
        return (await self.session.execute(statement, values)).first() is not None

    async def of(self, round_id: int, member_id: int) -> dict[str, AnswerRecord]:
        # Columns, not ORM objects: `save` writes with a Core statement, and objects kept in
        # the session would show the values from before it.
        rows = await self.session.execute(
            select(*Answer.__table__.c).where(  # type: ignore[attr-defined]
                Answer.round_id == round_id, Answer.member_id == member_id
            )
        )
        return {row.question_key: _answer(row) for row in rows}


class PromptRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, round_id: int, member_id: int, question_key: str) -> tuple[str, bool]:
        """The prompt token of this question for this student, made now if new (then True).

        Unique per (round, student, question), so asking twice (a double tap, two instances)
        reuses one token and the caller can tell it was asked already."""
        # 9 random bytes = 12 characters: unguessable, and short enough for callback_data.
        values = {
            "token": secrets.token_urlsafe(9),
            "round_id": round_id,
            "member_id": member_id,
            "question_key": question_key,
            "created_at": utcnow(),
        }
        new = await self.session.scalar(_new_prompt(dialect_name(self.session)), values)
        if new is not None:  # the usual case: one statement
            return new, True
        token = await self.session.scalar(
            select(Prompt.token).where(
                Prompt.round_id == round_id,
                Prompt.member_id == member_id,
                Prompt.question_key == question_key,
            )
        )
        assert token is not None
        return token, False

    async def ensure_many(
        self, round_id: int, member_ids: list[int], question_key: str
    ) -> dict[int, str]:
        """`ensure` for a whole class at once: member id -> token."""
        pairs = [(round_id, m) for m in member_ids]
        tokens = await OpeningRepo(self.session).prompts(pairs, question_key)
        return {member_id: token for (_round_id, member_id), token in tokens.items()}

    async def get(self, token: str) -> PromptRecord | None:
        row = await self.session.get(Prompt, token) if 0 < len(token) <= 24 else None
        return (
            None
            if row is None
            else PromptRecord(
                row.token, row.round_id, row.member_id, row.question_key, row.message_id
            )
        )

    async def for_tap(self, token: str) -> Tap | None:
        """The prompt of a button, its round, the round's cohort (its plan), the student's
        answers in the round and whether the round asks about an agreement: a tap's first
        read, one statement (a row per answer) where there were three."""
        if not 0 < len(token) <= 24:
            return None
        rows = (await self.session.execute(_for_tap(), {"token": token})).all()
        if not rows:
            return None
        first = rows[0]
        answers = {
            row.a_question_key: AnswerRecord(*(row[4 + i] for i in range(len(_ANSWER_COLUMNS))))
            for row in rows
            if row.a_question_key is not None
        }
        return Tap(
            _prompt(first[0]), _round(first[1]), cohort_record(first[2]), answers,
            bool(first.agreements),
        )  # fmt: skip

    async def find(self, round_id: int, member_id: int, question_key: str) -> PromptRecord | None:
        row = await self.session.scalar(
            select(Prompt).where(
                Prompt.round_id == round_id,
                Prompt.member_id == member_id,
                Prompt.question_key == question_key,
            )
        )
        return None if row is None else _prompt(row)

    async def set_message(self, token: str, message_id: int) -> None:
        await self.session.execute(
            update(Prompt).where(Prompt.token == token).values(message_id=message_id)
        )

    async def by_message(self, member_id: int, message_id: int) -> PromptRecord | None:
        row = await self.session.scalar(
            select(Prompt).where(
                and_(Prompt.member_id == member_id, Prompt.message_id == message_id)
            )
        )
        return (
            None
            if row is None
            else PromptRecord(
                row.token, row.round_id, row.member_id, row.question_key, row.message_id
            )
        )


async def student_history(
    session: AsyncSession, cohort_id: int, member_id: int
) -> list[WeekStatus]:
    """One student's reflection weeks, oldest first: finished or not, and their ratings."""
    rounds = await RoundRepo(session).of_cohort(cohort_id, "reflection")
    rounds = [r for r in rounds if r.status != "skipped"]
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    done = set(
        await session.scalars(
            select(Participation.round_id).where(
                Participation.member_id == member_id,
                Participation.round_id.in_(ids),
                Participation.completed_at.is_not(None),
            )
        )
    )
    rated: dict[int, list[tuple[str, int]]] = {}
    rows = await session.execute(
        select(Answer.round_id, Answer.skill, Answer.rating).where(
            Answer.member_id == member_id, Answer.round_id.in_(ids), Answer.rating.is_not(None)
        )
    )
    for round_id, skill, rating in rows:
        rated.setdefault(round_id, []).append((skill or "", int(rating or 0)))
    return [WeekStatus(r.week, r.id in done, tuple(rated.get(r.id, []))) for r in rounds]
