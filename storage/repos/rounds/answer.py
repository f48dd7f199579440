"""Answers: one per round, student and question, written by one upsert statement."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for
from storage.models import Answer
from storage.records import AnswerRecord
from storage.repos.core import rows

ANSWER_COLUMNS = list(AnswerRecord.__dataclass_fields__)


def answer_record(row: Any) -> AnswerRecord:  # an Answer, or a row of its columns
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
        return bool(await rows(self.session, statement, values))

    async def of(self, round_id: int, member_id: int) -> dict[str, AnswerRecord]:
        # Columns, not ORM objects: `save` writes with a Core statement, and objects kept in
        # the session would show the values from before it.
        rows = await self.session.execute(
            select(*Answer.__table__.c).where(  # type: ignore[attr-defined]
                Answer.round_id == round_id, Answer.member_id == member_id
            )
        )
        return {row.question_key: answer_record(row) for row in rows}
