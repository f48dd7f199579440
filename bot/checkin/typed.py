"""A typed answer: to the question it replies to, else to the student's current question.
Storing it, and what follows, is `bot.checkin.flow`'s (as for a tap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.checkin.flow import Outcome, has_visible_text, next_question, store_answer
from bot.checkin.weeks import reflection_week
from bot.plans import ResolvedQuestion, ResolvedWeek
from bot.texts import t
from storage.db import Session
from storage.records import AnswerRecord, MemberRecord, RoundRecord
from storage.repos.rounds import AnswerRepo, PromptRepo, RoundRepo


@dataclass(frozen=True)
class _Typed:
    """The typed text and whose it is, as `save_text` was given them."""

    session: Session
    member: MemberRecord
    text: str
    lang: str
    now: datetime
    again: bool


async def save_text(
    session: Session,
    member: MemberRecord,
    text: str,
    reply_to: int | None,
    lang: str,
    now: datetime,
    *,
    again: bool = False,
) -> Outcome | None:
    """A typed answer: to the question it replies to, else to the current question.
    None when no reflection question is waiting for this student. `again`: as
    `bot.checkin.flow.save_choice`'s."""
    typed = _Typed(session, member, text, lang, now, again)
    prompt = await PromptRepo(session).by_message(member.id, reply_to) if reply_to else None
    if prompt is None:
        return await _to_current(typed)
    round_ = await RoundRepo(session).get(prompt.round_id)
    if round_ is None:
        return None
    if not round_.is_open:
        return Outcome(t("answer.closed", lang))  # a reply to last week's question
    week = await reflection_week(session, round_, member.id, lang)
    if prompt.question_key in {q.key for q in week.questions}:
        return await _answer(typed, round_, week, week.question(prompt.question_key))
    return await _current(typed, round_, week, await AnswerRepo(session).of(round_.id, member.id))


async def _to_current(typed: _Typed) -> Outcome | None:
    """No question replied to: the current one of the open reflection, read in one statement
    (round, cohort, agreements, answers) as a tap's is."""
    member = typed.member
    opened = await PromptRepo(typed.session).for_typed(member.cohort_id, member.id)
    if opened is None:
        return None
    week = await reflection_week(
        typed.session, opened.round, member.id, typed.lang, opened.cohort,
        agreements=opened.agreements,
    )  # fmt: skip
    return await _current(typed, opened.round, week, opened.answers)


async def _current(
    typed: _Typed, round_: RoundRecord, week: ResolvedWeek, answered: dict[str, AnswerRecord]
) -> Outcome | None:
    replayed = _answered_by(week, answered, typed.text) if typed.again else None
    current = replayed or next_question(week, answered)
    if current is None:
        return None
    asked = await PromptRepo(typed.session).find(round_.id, typed.member.id, current.key)
    if asked is None:
        return None
    return await _answer(typed, round_, week, current, answered)


async def _answer(
    typed: _Typed,
    round_: RoundRecord,
    week: ResolvedWeek,
    question: ResolvedQuestion,
    before: dict[str, AnswerRecord] | None = None,
) -> Outcome:
    """`before`: the student's answers in the round, when read already."""
    text, lang = typed.text, typed.lang
    values: dict[str, object]
    if question.kind == "text":
        if not has_visible_text(text):
            return Outcome(t("input.empty", lang))
        if len(text) > (question.max_length or 4000):
            return Outcome(t("input.too_long", lang, length=len(text), limit=question.max_length))
        values = {"text": text}
    elif question.kind == "rating" and text.strip() in {"1", "2", "3", "4", "5"}:
        values = {"rating": int(text.strip())}
    else:
        return Outcome(t("question.choose_button", lang))
    return await store_answer(
        typed.session, round_, typed.member, week, question, values, lang, typed.now,
        typed.again, before=before,
    )  # fmt: skip


def _answered_by(
    week: ResolvedWeek, answered: dict[str, AnswerRecord], text: str
) -> ResolvedQuestion | None:
    """The text question this very text already answers. An update handled again after a
    crash finds its answer stored and the next question current: it is the same answer (its
    reply and the next question go out again), not a text typed at a rating question."""
    for question in week.questions:
        stored = answered.get(question.key)
        if question.kind == "text" and stored is not None and stored.text == text:
            return question
    return None
