"""Question prompts (the token on a button) and a tap's first read."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for
from storage.models import Answer, Cohort, Prompt, Round, utcnow
from storage.records import AnswerRecord, CohortRecord, PromptRecord, RoundRecord
from storage.repos.cohorts import to_record as cohort_record
from storage.repos.loop import to_follow_up
from storage.repos.opening import OpeningRepo
from storage.repos.rounds.answer import ANSWER_COLUMNS
from storage.repos.rounds.round import round_record


@dataclass(frozen=True)
class Tap:
    """What a tapped button needs, read in one statement (`PromptRepo.for_tap`)."""

    prompt: PromptRecord
    round: RoundRecord
    cohort: CohortRecord  # the round's (its plan)
    answers: dict[str, AnswerRecord]  # the prompt's student's answers in the round so far
    agreements: bool  # whether the round asks about any of the student's agreements


def prompt_record(row: Prompt) -> PromptRecord:
    return PromptRecord(row.token, row.round_id, row.member_id, row.question_key, row.message_id)


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
            *(table.c[name].label(f"a_{name}") for name in ANSWER_COLUMNS),  # type: ignore[attr-defined]
        )
        .join(Round, Round.id == Prompt.round_id)
        .join(Cohort, Cohort.id == Round.cohort_id)
        .outerjoin(
            Answer,
            and_(Answer.round_id == Prompt.round_id, Answer.member_id == Prompt.member_id),
        )
        .where(Prompt.token == bindparam("token"))
    )


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
            row.a_question_key: AnswerRecord(*(row[4 + i] for i in range(len(ANSWER_COLUMNS))))
            for row in rows
            if row.a_question_key is not None
        }
        return Tap(
            prompt_record(first[0]), round_record(first[1]), cohort_record(first[2]), answers,
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
        return None if row is None else prompt_record(row)

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
