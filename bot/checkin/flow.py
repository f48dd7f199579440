"""The student's check-in, without Telegram: which question is next, storing an answer,
and rendering questions. Handlers turn updates into these calls and send what comes back."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.checkin import agreement_questions
from bot.checkin.values import parse_choice, stored_answer
from bot.checkin.weeks import reflection_week
from bot.outbox.queue import Outgoing
from bot.plans import ResolvedQuestion, ResolvedWeek
from bot.texts import t
from storage.db import Session
from storage.records import AnswerRecord, MemberRecord, RoundRecord
from storage.repos.rounds import AnswerRepo, PromptRepo, RoundRepo

EXPECTATIONS_KEY = "__expectations__"
QUESTION_KEY = "__vraag__"
ANSWER = "a:"  # a:<token>:<option index or rating>
SKIP = "k:"  # k:<token>
EXPECT = "e:"  # e:<token>:ok | e:<token>:q
RESUME = "v:"  # v: (continue where I stopped)
BUTTON_PATTERN = (
    r"^(a:[A-Za-z0-9_-]{1,24}:\d{1,2}|k:[A-Za-z0-9_-]{1,24}|e:[A-Za-z0-9_-]{1,24}:(ok|q)|v:)$"
)


@dataclass(frozen=True)
class Ask:
    """A question to send now. For a text question the sent message id is remembered with
    the prompt, so that a reply to that message answers it (buttons carry their own token)."""

    token: str
    message: Outgoing
    remember_message: bool = True


@dataclass
class Outcome:
    """What the handler should do after an answer."""

    ack: str  # short confirmation (callback answer or reply)
    edit: str | None = None  # new text of the tapped message
    follow_ups: list[Ask | Outgoing] = field(default_factory=list)
    completed: tuple[int, int] | None = None  # (cohort_id, member_id) just completed
    stale: bool = False


def ack_with_follow_ups(outcome: Outcome) -> list[Ask | Outgoing]:
    """The messages for a typed answer: the confirmation folded into the first follow-up.

    One message per answer, not two: Telegram takes one message a second per chat, and a
    second one within that second is refused (429) and arrives a second late."""
    if not outcome.follow_ups:
        return [Outgoing(outcome.ack)] if outcome.ack else []
    first, *rest = outcome.follow_ups
    message = first.message if isinstance(first, Ask) else first
    if outcome.ack:
        message = replace(message, text=f"{outcome.ack}\n\n{message.text}")
    folded = replace(first, message=message) if isinstance(first, Ask) else message
    return [folded, *rest]


# Characters that show nothing although Python does not call them whitespace: the zero-width
# family, the Hangul fillers and the blank Braille pattern (the usual ways to send "nothing").
_INVISIBLE = {"\u2800", "\u3164", "\u115f", "\u1160", "\uffa0"}


def has_visible_text(text: str) -> bool:
    """Whether the text shows anything: not only spaces, format characters or fillers."""
    return any(
        not ch.isspace() and ch not in _INVISIBLE and unicodedata.category(ch) not in ("Cf", "Cc")
        for ch in text
    )


def render_question(
    week: ResolvedWeek, question: ResolvedQuestion, token: str, lang: str, intro: str | None = None
) -> Outgoing:
    index = week.questions.index(question) + 1
    lines = [intro, ""] if intro else []
    lines += [
        t("question.header", lang, index=index, total=len(week.questions)),
        "",
        question.prompt,
    ]
    if question.kind == "text":
        if question.starr:
            lines += ["", t("question.starr_hint", lang)]
        lines += ["", t("question.type_answer", lang)]
    buttons: list[list[tuple[str, str]]] = []
    if question.kind == "rating":
        buttons.append([(str(n), f"{ANSWER}{token}:{n}") for n in range(1, 6)])
    elif question.kind == "choice":
        buttons += [[(o.label, f"{ANSWER}{token}:{i}")] for i, o in enumerate(question.options)]
    if question.optional:
        buttons.append([(t("question.skip_button", lang), f"{SKIP}{token}")])
    return Outgoing("\n".join(lines), buttons)


def render_expectations(
    week: ResolvedWeek, token: str, lang: str, reflection_when: str
) -> Outgoing:
    """The week's expectations; `reflection_when` is the cohort's own reflection moment."""
    skills = ", ".join(skill.label for skill in week.focus_skills)
    text = t(
        "round.expectations",
        lang,
        week=week.number,
        text=week.expectations.strip(),
        skills=skills,
        reflection_when=reflection_when,
    )
    buttons = [
        [(t("expectations.ok_button", lang), f"{EXPECT}{token}:ok")],
        [(t("expectations.ask_button", lang), f"{EXPECT}{token}:q")],
    ]
    return Outgoing(text, buttons)


def next_question(week: ResolvedWeek, answers: dict[str, AnswerRecord]) -> ResolvedQuestion | None:
    """The first question without an answer (a skipped optional question counts as answered)."""
    return next((q for q in week.questions if q.key not in answers), None)


def display_value(question: ResolvedQuestion, answer: AnswerRecord, lang: str) -> str:
    if answer.skipped:
        return t("answer.skipped", lang)
    if answer.rating is not None:
        return f"{answer.rating}/5"
    if answer.choice is not None:
        option = question.option(answer.choice)
        return option.label if option else answer.choice
    text = answer.text or ""
    return text if len(text) <= 80 else text[:77] + "…"


def summary(week: ResolvedWeek, answers: dict[str, AnswerRecord], lang: str) -> str:
    lines = []
    for question in week.questions:
        if question.key in answers:
            label = _short_label(question, week)
            lines.append(f"• {label}: {display_value(question, answers[question.key], lang)}")
    return "\n".join(lines)


def _short_label(question: ResolvedQuestion, week: ResolvedWeek) -> str:
    if question.kind == "rating" and question.skill:
        skill = next((s for s in week.focus_skills if s.key == question.skill), None)
        if skill is not None:
            return skill.title
    prompt = re.split(r"(?<=[?])\s|[:.\n]", question.prompt, maxsplit=1)[0].strip()
    return prompt if len(prompt) <= 60 else prompt[:57] + "…"


async def ask_next(
    session: Session,
    round_: RoundRecord,
    member: MemberRecord,
    lang: str,
    now: datetime,
    *,
    again: bool = False,
    intro: str | None = None,
    known: tuple[ResolvedWeek, dict[str, AnswerRecord]] | None = None,
) -> Ask | Outgoing | None:
    """The next question to send; None when it was asked already (unless `again`), and the
    closing summary when the student has answered everything (once). `known`: the week and
    the answers when the caller has just read them (an answer being stored)."""
    if known is None:
        week = await reflection_week(session, round_, member.id, lang)
        answers = await AnswerRepo(session).of(round_.id, member.id)
    else:
        week, answers = known
    question = next_question(week, answers)
    rounds = RoundRepo(session)
    if question is None:
        if await rounds.mark_completed(round_.id, member.id, now):
            text = t("round.done", lang, week=round_.week, summary=summary(week, answers, lang))
            return Outgoing(text)
        return None
    token, new = await PromptRepo(session).ensure(round_.id, member.id, question.key)
    if not new and not again:
        return None
    message = render_question(week, question, token, lang, intro)
    return Ask(token, message, remember_message=question.kind == "text")


async def save_choice(
    session: Session,
    members: Sequence[MemberRecord],
    token: str,
    raw: str | None,
    lang: str,
    now: datetime,
    *,
    again: bool = False,
) -> Outcome:
    """A tapped answer (raw = option index or rating) or skip (raw None), checked against the
    sender (`members`: the sender's memberships, as identified already) and the open round;
    unknown, foreign or closed prompts change nothing.

    `again`: the same tap handled a second time after a crash (the inbox): what followed it
    (the next question) may never have gone out, so it is sent (again), not skipped as a
    double tap."""
    tap = await PromptRepo(session).for_tap(token)
    if tap is None:
        return Outcome(t("input.stale_button", lang), stale=True)
    prompt, round_ = tap.prompt, tap.round
    member = next((m for m in members if m.id == prompt.member_id), None)
    if member is None or not member.is_active:
        return Outcome(t("input.stale_button", lang), stale=True)
    if not round_.is_open:
        return Outcome(t("answer.closed", lang), stale=True)
    week = await reflection_week(
        session, round_, member.id, lang, tap.cohort, agreements=tap.agreements
    )
    try:
        question = week.question(prompt.question_key)
    except KeyError:
        return Outcome(t("input.stale_button", lang), stale=True)
    values = parse_choice(question, raw)
    if values is None:
        return Outcome(t("input.stale_button", lang), stale=True)
    return await store_answer(
        session, round_, member, week, question, values, lang, now, again, before=tap.answers
    )


async def store_answer(
    session: Session,
    round_: RoundRecord,
    member: MemberRecord,
    week: ResolvedWeek,
    question: ResolvedQuestion,
    values: dict[str, object],
    lang: str,
    now: datetime,
    again: bool = False,
    *,
    before: dict[str, AnswerRecord] | None = None,
) -> Outcome:
    """`before`: the student's answers in the round, when the caller read them already."""
    answers = AnswerRepo(session)
    if before is None:
        before = await answers.of(round_.id, member.id)
    had = before.get(question.key)
    changed = await answers.save(
        round_.id,
        member.id,
        question.key,
        kind=question.kind,
        skill=question.skill,
        now=now,
        **values,  # type: ignore[arg-type]
    )
    if not before:  # the first answer starts the round (later ones find it started)
        await RoundRepo(session).mark_started(round_.id, member.id, now)
    await agreement_questions.record(session, question.key, values, round_.id, now)
    stored = stored_answer(round_, member, question, values, now, had, changed)
    after = {**before, question.key: stored}
    # handled again after a crash: the student may never have seen the first confirmation
    saved = changed or again
    ack = t(
        "answer.changed" if had and changed else "answer.saved" if saved else "answer.unchanged",
        lang,
    )
    chosen = t("answer.chosen", lang, value=display_value(question, stored, lang))
    outcome = Outcome(ack, edit=chosen)
    if changed or had is None or again:
        # an agreement's outcome may change the week (it adds its line): then it is read again
        known = None if agreement_questions.changes_week(question.key) else (week, after)
        follow = await ask_next(session, round_, member, lang, now, again=again, known=known)
        if follow is None and again:  # completed before, by an instance that may have died
            done = week if known else await reflection_week(session, round_, member.id, lang)
            text = t("round.done", lang, week=round_.week, summary=summary(done, after, lang))
            follow = Outgoing(text)
        if follow is not None:
            outcome.follow_ups.append(follow)
            if isinstance(follow, Outgoing):
                outcome.completed = (round_.cohort_id, member.id)
    return outcome


async def open_reflection(session: Session, member: MemberRecord) -> RoundRecord | None:
    round_ = await RoundRepo(session).latest(member.cohort_id, "reflection")
    if round_ is None or not round_.is_open:
        return None
    return round_


async def expectations_action(
    session: Session, student: MemberRecord | None, token: str, action: str, now: datetime
) -> str | None:
    """'ok' records that the student read the week's expectations; 'q' prepares a question
    prompt and returns its token. None for a button that is not this student's."""
    prompt = await PromptRepo(session).get(token)
    if student is None or prompt is None or prompt.member_id != student.id:
        return None
    if prompt.question_key != EXPECTATIONS_KEY or action not in ("ok", "q"):
        return None
    round_ = await RoundRepo(session).get(prompt.round_id)
    if round_ is None or not round_.is_open:
        return None  # last week's expectations: the button changes nothing any more
    if action == "ok":
        await AnswerRepo(session).save(
            prompt.round_id,
            student.id,
            EXPECTATIONS_KEY,
            kind="choice",
            skill=None,
            now=now,
            choice="ok",
        )
        return token
    ask_token, _new = await PromptRepo(session).ensure(prompt.round_id, student.id, QUESTION_KEY)
    return ask_token
