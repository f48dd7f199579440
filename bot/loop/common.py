"""What the loop's services share: who may act on a cohort, the plan week of today, one-line
input checks, and sending a personal message to a student."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.gaps.cohort_data import local_time
from bot.outbox.queue import Outgoing, Queued, queue
from bot.plans.store import plan_for
from bot.texts import normalise_language
from storage.db import Session
from storage.records import CohortRecord, MemberRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo

MAX_LINE = 300
"""One line of an agreement, a note or a compliment: short enough to read in a chat."""
TEAM_LANGUAGE = "nl"
PROMPT_MARK = "✍️"
"""Every question whose reply the loop waits for starts with it (handlers/loop.py's filter)."""


@dataclass(frozen=True)
class Reply:
    """What a loop service asks the handler to say: a text key and its values, optionally
    buttons, or a question to answer by replying (`prompt`: remember it for `kind`/`row_id`)."""

    key: str
    values: dict[str, object]
    buttons: list[list[tuple[str, str]]] | None = None
    prompt: tuple[str, int] | None = None  # (kind, row id) when the text is a question


def reply(key: str, **values: object) -> Reply:
    return Reply(key, values)


def line_problem(text: str) -> Reply | None:
    """A polite refusal for an empty or too long line, else None."""
    if not text.strip():
        return reply("loop.line_empty")
    if len(text) > MAX_LINE or "\n" in text.strip():
        return reply("loop.line_too_long", length=len(text), limit=MAX_LINE)
    return None


async def current_week(session: Session, cohort: CohortRecord, now: datetime) -> int:
    """The plan week of today; in a holiday the next teaching week; week 1 before the start."""
    plan = await plan_for(session, cohort)
    today = local_time(cohort, now).date()
    for days in range(0, 120):
        week = plan.teaching_week(cohort.start_date, today + timedelta(days=days))
        if week is not None:
            return week
    return 1


async def cohort_of(session: Session, cohort_id: int) -> CohortRecord:
    cohort = await CohortRepo(session).get(cohort_id)
    assert cohort is not None, "members and alerts belong to an existing cohort"
    return cohort


async def student_of(
    session: Session, member_id: int | None, mentors: dict[int, MemberRecord]
) -> MemberRecord | None:
    """The student when the acting user is a mentor of the student's cohort, else None."""
    if member_id is None:
        return None
    student = await MemberRepo(session).get(member_id)
    if student is None or student.role != "student" or student.cohort_id not in mentors:
        return None
    return student


async def language_of(session: Session, member: MemberRecord) -> str:
    return normalise_language(
        await UserSettingsRepo(session).language(member.telegram_user_id or 0)
    )


async def to_student(
    session: Session, student: MemberRecord, key: str, message: Outgoing, now: datetime
) -> bool:
    """Queue a personal message to the student; False when they cannot be reached."""
    if not student.is_active or student.chat_id is None:
        return False
    item = Queued(key, student.chat_id, "loop", message, student.cohort_id,
                  member_id=student.id, priority=5)  # fmt: skip
    await queue(session, [item], now)
    return True


MAX_NAME_WORDS = 4


async def named_student(
    session: Session, cohort_id: int, raw: str, usage: str
) -> tuple[MemberRecord, str] | Reply:
    """/afspraak and /compliment start with (part of) a student's name: the student and the
    text after the name (empty, or a line that passes `line_problem`), or the polite answer
    (`usage` without a name). The longest run of first words that is part of exactly one
    active student's name wins: "Anna de Vries oefent …" and "anna oefent …" both find Anna
    de Vries."""
    found = await _find_named(session, cohort_id, raw, usage)
    if isinstance(found, Reply):
        return found
    student, text = found
    problem = line_problem(text) if text else None
    return problem if problem is not None else (student, text)


async def _find_named(
    session: Session, cohort_id: int, raw: str, usage: str
) -> tuple[MemberRecord, str] | Reply:
    words = raw.split()
    if not words:
        return reply(usage)
    students = await MemberRepo(session).in_cohort(cohort_id, "student", statuses=("active",))
    candidates: list[MemberRecord] = []
    for n in range(min(MAX_NAME_WORDS, len(words)), 0, -1):
        key = " ".join(words[:n]).casefold()
        within = [s for s in students if key in s.name.casefold()]
        exact = [s for s in within if s.name.casefold() == key]
        if len(exact) == 1 or len(within) == 1:
            return (exact or within)[0], _after_words(raw, n)
        if within and not candidates:
            candidates = within
    if candidates:
        return reply("loop.student_ambiguous", names=", ".join(s.name for s in candidates))
    return reply("loop.student_not_found", name=words[0])


def _after_words(raw: str, count: int) -> str:
    """The text after the first `count` words, its own spacing and line breaks kept."""
    rest = raw.strip()
    for _ in range(count):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()
