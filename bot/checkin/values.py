"""An answer's values: parsed from a tapped button, and as stored (without reading it back)."""

from __future__ import annotations

from datetime import datetime

from bot.plans import ResolvedQuestion
from storage.records import AnswerRecord, MemberRecord, RoundRecord


def parse_choice(question: ResolvedQuestion, raw: str | None) -> dict[str, object] | None:
    """The stored values of a tapped option index or rating (None: skip); None if invalid."""
    if raw is None:
        return {"skipped": True} if question.optional else None
    if not raw.isdigit():
        return None
    number = int(raw)
    if question.kind == "rating":
        return {"rating": number} if 1 <= number <= 5 else None
    if question.kind == "choice" and 0 <= number < len(question.options):
        return {"choice": question.options[number].value}
    return None


def stored_answer(
    round_: RoundRecord,
    member: MemberRecord,
    question: ResolvedQuestion,
    values: dict[str, object],
    now: datetime,
    had: AnswerRecord | None,
    changed: bool,
) -> AnswerRecord:
    """The answer as stored now, without reading it back (`had`: the one before)."""
    if had is not None and not changed:
        return had
    return AnswerRecord(
        round_.id,
        member.id,
        question.key,
        question.kind,
        question.skill,
        values.get("rating"),  # type: ignore[arg-type]
        values.get("choice"),  # type: ignore[arg-type]
        values.get("text"),  # type: ignore[arg-type]
        bool(values.get("skipped", False)),
        had.answered_at if had is not None else now,  # a changed answer keeps its time
    )
