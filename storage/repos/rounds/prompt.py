"""Question prompts (the token on a button) and a tap's first read."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for
from storage.models import Answer, Cohort, Prompt, Round, utcnow
from storage.records import AnswerRecord, CohortRecord, PromptRecord, RoundRecord
from storage.repos.core import rows
from storage.repos.loop import to_follow_up
from storage.repos.opening import OpeningRepo
from storage.repos.rounds.answer import ANSWER_COLUMNS


@dataclass(frozen=True)
class Opened:
    """What an answer needs of its round, read in one statement (`PromptRepo.for_typed`)."""

    round: RoundRecord
    cohort: CohortRecord  # the round's (its plan)
    answers: dict[str, AnswerRecord]  # the student's answers in the round so far
    agreements: bool  # whether the round asks about any of the student's agreements


@dataclass(frozen=True)
class Tap(Opened):
    """What a tapped button needs, read in one statement (`PromptRepo.for_tap`)."""

    prompt: PromptRecord


def prompt_record(row: Any) -> PromptRecord:  # a Prompt, or a row of its columns
    return PromptRecord(row.token, row.round_id, row.member_id, row.question_key, row.message_id)


@functools.cache
def _new_prompt(dialect: str) -> Any:
    table = Prompt.__table__
    return (
        insert_for(dialect, table)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["round_id", "member_id", "question_key"])
        .returning(table.c.token)  # type: ignore[attr-defined]
    )


_PROMPTS: Table = Prompt.__table__  # type: ignore[assignment]
_ROUNDS: Table = Round.__table__  # type: ignore[assignment]
_COHORTS: Table = Cohort.__table__  # type: ignore[assignment]
_ANSWERS: Table = Answer.__table__  # type: ignore[assignment]

# Statements of every answer, built once (`ensure`, `find`, `set_message`).
_FIND = select(*(_PROMPTS.c[name] for name in PromptRecord.__dataclass_fields__)).where(
    Prompt.round_id == bindparam("round_id"),
    Prompt.member_id == bindparam("member_id"),
    Prompt.question_key == bindparam("question_key"),
)
_SET_MESSAGE = (
    update(Prompt)
    .where(Prompt.token == bindparam("prompt"))
    .values(message_id=bindparam("message"))
)


# A tap's and a typed answer's first reads as plain columns (no ORM objects), positionally:
# the prompt's (a tap's only), then the round's and the cohort's as their records take them,
# the agreements flag, and an answer's (NULL without one).
_PROMPT_COLUMNS = list(PromptRecord.__dataclass_fields__)
_ROUND_COLUMNS = list(RoundRecord.__dataclass_fields__)
_COHORT_COLUMNS = list(CohortRecord.__dataclass_fields__)
_COHORT_AT = len(_ROUND_COLUMNS)  # from the round's first column
_AGREEMENTS_AT = _COHORT_AT + len(_COHORT_COLUMNS)
_ANSWER_AT = _AGREEMENTS_AT + 1
_PROMPT_AT = _ANSWER_AT + len(ANSWER_COLUMNS)  # a tap's


def _read(joined: Any, member_id: Any) -> Any:
    """The select list of both reads over `joined` (the round and what leads to it)."""
    rounds, cohorts, answers = _ROUNDS, _COHORTS, _ANSWERS
    follow_ups = exists().where(to_follow_up(member_id, rounds.c.week, rounds.c.id))
    return select(
        *(rounds.c[name] for name in _ROUND_COLUMNS),
        *(cohorts.c[name] for name in _COHORT_COLUMNS),
        follow_ups.label("agreements"),
        *(answers.c[name].label(f"a_{name}") for name in ANSWER_COLUMNS),
    ).select_from(
        joined.join(cohorts, cohorts.c.id == rounds.c.cohort_id).outerjoin(
            answers,
            and_(answers.c.round_id == rounds.c.id, answers.c.member_id == member_id),
        )
    )


@functools.cache
def _for_tap() -> Any:
    """`PromptRepo.for_tap`'s statement (bound: `token`); the prompt's columns last."""
    prompts, rounds = _PROMPTS, _ROUNDS
    joined = prompts.join(rounds, rounds.c.id == prompts.c.round_id)
    return (
        _read(joined, prompts.c.member_id)
        .add_columns(*(prompts.c[name] for name in _PROMPT_COLUMNS))
        .where(prompts.c.token == bindparam("token"))
    )


@functools.cache
def _for_typed() -> Any:
    """`PromptRepo.for_typed`'s statement (bound: `cohort`, `member`): the cohort's open
    reflection round of the highest week, as `RoundRepo.latest` finds it."""
    rounds = _ROUNDS
    latest = (
        select(rounds.c.id)
        .where(
            rounds.c.cohort_id == bindparam("cohort"),
            rounds.c.kind == "reflection",
            rounds.c.status == "open",
        )
        .order_by(rounds.c.week.desc())
        .limit(1)
        .scalar_subquery()
    )
    member = bindparam("member", type_=Integer)
    return _read(rounds, member).where(rounds.c.id == latest)


def _opened(rows: Sequence[Any]) -> Opened:
    first = rows[0]
    cohort = dict(zip(_COHORT_COLUMNS, first[_COHORT_AT:_AGREEMENTS_AT], strict=True))
    cohort["gap_settings"] = dict(cohort["gap_settings"] or {})  # as CohortRepo gives it
    answers = {
        row.a_question_key: AnswerRecord(*row[_ANSWER_AT:_PROMPT_AT])
        for row in rows
        if row.a_question_key is not None
    }
    round_ = RoundRecord(*first[:_COHORT_AT])
    return Opened(round_, CohortRecord(**cohort), answers, bool(first[_AGREEMENTS_AT]))


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
        statement = _new_prompt(dialect_name(self.session))
        new = await rows(self.session, statement, values)
        if new:  # the usual case: one statement
            return new[0][0], True
        found = await rows(self.session, _FIND, values)
        assert found
        return found[0].token, False

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
        found = await rows(self.session, _for_tap(), {"token": token})
        if not found:
            return None
        opened = _opened(found)
        prompt = PromptRecord(*found[0][_PROMPT_AT:])
        return Tap(opened.round, opened.cohort, opened.answers, opened.agreements, prompt)

    async def for_typed(self, cohort_id: int, member_id: int) -> Opened | None:
        """A typed answer's first read, one statement where there were four: the cohort's
        open reflection round (None without one), its cohort, whether it asks about any of
        the student's agreements, and the student's answers in it."""
        values = {"cohort": cohort_id, "member": member_id}
        found = await rows(self.session, _for_typed(), values)
        return _opened(found) if found else None

    async def find(self, round_id: int, member_id: int, question_key: str) -> PromptRecord | None:
        values = {"round_id": round_id, "member_id": member_id, "question_key": question_key}
        found = await rows(self.session, _FIND, values)
        return prompt_record(found[0]) if found else None

    async def set_message(self, token: str, message_id: int) -> None:
        await rows(self.session, _SET_MESSAGE, {"prompt": token, "message": message_id})

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
