"""What mentor commands change: which cohort a command is about, next week's expectations
text (/verwachting), and answering a student's question (/antwoord). No Telegram here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.gaps.cohort_data import local_time, shorten
from bot.outbox.queue import Outgoing, Queued, queue
from bot.plans import Plan
from bot.plans.store import plan_for
from bot.schedule.rounds import EXPECTATIONS_OVERRIDE, override_versions
from bot.texts import normalise_language, t
from storage.db import Session
from storage.records import CohortRecord, MemberRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.answers_query import QuestionsRepo


def mentor_cohort_choice(
    mentor_cohorts: Sequence[tuple[int, str]], args: Sequence[str]
) -> tuple[int | None, list[str]]:
    """Pick the cohort a mentor command is about: the first argument when it names one of
    the mentor's cohorts (then it is taken off the arguments), else the first cohort."""
    if not mentor_cohorts:
        return None, list(args)
    if args:
        wanted = args[0].casefold()
        for cohort_id, name in mentor_cohorts:
            if name.casefold() == wanted:
                return cohort_id, list(args[1:])
    return mentor_cohorts[0][0], list(args)


# ----------------------------------------------------------------------------- commands

MAX_EXPECTATIONS = 3500
MAX_ANSWER = 3500


def next_plan_week(plan: Plan, start: date, today: date) -> int:
    """The plan week after the current one (holidays skipped); week 1 before the start."""
    current = plan.teaching_week(start, today) or 0
    for days in range(1, 120):
        week = plan.teaching_week(start, today + timedelta(days=days))
        if week is not None and week > current:
            return week
    return current + 1


LANGUAGE_PREFIXES = {"nl:": "nl", "en:": "en"}
"""/verwachting en: <text> gives the English version (a colon: a Dutch text may begin with "en")."""


def expectations_language(text: str, mentor_language: str) -> tuple[str, str]:
    """(language, text): a leading `nl:` or `en:` names the language, else it is the mentor's."""
    head = text[:3].casefold()
    if head in LANGUAGE_PREFIXES:
        return LANGUAGE_PREFIXES[head], text[3:].strip()  # empty: only the prefix was sent
    return normalise_language(mentor_language), text


@dataclass(frozen=True)
class ExpectationsSet:
    week: int
    other_language: str  # the language without a text of its own for that week
    other_readers: int  # active students reading it: they get the text as written


async def set_expectations(
    session: Session, cohort: CohortRecord, text: str, lang: str, now: datetime
) -> ExpectationsSet:
    """Store next week's expectations text in `lang` in gap_settings["expectations_override"]
    ({week: {lang: text}}); which readers still lack a version in their own language."""
    plan = await plan_for(session, cohort)
    week = next_plan_week(plan, cohort.start_date, local_time(cohort, now).date())
    settings = dict(cohort.gap_settings)
    overrides = dict(settings.get(EXPECTATIONS_OVERRIDE) or {})
    versions = override_versions(overrides.get(str(week)))
    versions[lang] = text
    overrides[str(week)] = versions
    settings[EXPECTATIONS_OVERRIDE] = overrides
    await CohortRepo(session).update_settings(cohort.id, gap_settings=settings)
    other = "en" if lang == "nl" else "nl"
    readers = 0 if other in versions else await _readers(session, cohort.id, other)
    return ExpectationsSet(week, other, readers)


async def _readers(session: Session, cohort_id: int, lang: str) -> int:
    students = await MemberRepo(session).in_cohort(cohort_id, "student", statuses=("active",))
    ids = [m.telegram_user_id for m in students if m.telegram_user_id is not None]
    chosen = await UserSettingsRepo(session).languages(ids)
    return sum(1 for i in ids if normalise_language(chosen.get(i)) == lang)


@dataclass(frozen=True)
class AnswerResult:
    status: str  # "sent", "unreachable", "not_found", "already"
    name: str = ""


async def answer_question(
    session: Session,
    question_id: int,
    text: str,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> AnswerResult:
    """A mentor answers a student's question: stored, and queued to the student's chat."""
    questions = QuestionsRepo(session)
    question = await questions.get(question_id)
    if question is None or question.cohort_id not in mentors:
        return AnswerResult("not_found")
    if question.answer_text is not None:
        return AnswerResult("already", question.answered_by or "")
    mentor = mentors[question.cohort_id]
    if not await questions.answer(question_id, text, mentor.name, now):
        return AnswerResult("already", "")
    student = await MemberRepo(session).get(question.member_id)
    if student is None or not student.is_active or student.chat_id is None:
        return AnswerResult("unreachable", student.name if student else "?")
    lang = normalise_language(
        await UserSettingsRepo(session).language(student.telegram_user_id or 0)
    )
    body = t("answer.to_student", lang, question=shorten(question.text, 200), text=text)
    item = Queued(
        f"answer:{question_id}",
        student.chat_id,
        "answer",
        Outgoing(body),
        question.cohort_id,
        member_id=student.id,
        priority=5,
    )
    await queue(session, [item], now)
    return AnswerResult("sent", student.name)
