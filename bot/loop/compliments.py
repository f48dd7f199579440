"""Compliments from the mentor team to one student: from the Compliment button under a
resolved gap or an improvement in the digest, or /compliment <student> <tekst>."""

from __future__ import annotations

import re
from datetime import datetime

from bot.loop.common import (
    PROMPT_MARK,
    Reply,
    language_of,
    line_problem,
    named_student,
    reply,
    student_of,
)
from bot.loop.common import to_student as queue_to_student
from bot.outbox.queue import Outgoing
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord
from storage.repos import MemberRepo
from storage.repos.alerts import AuditRepo
from storage.repos.loop import ComplimentRepo

PREFIX = "cp:"
BUTTON_PATTERN = r"^cp:\d{1,12}(:\d{1,12})?$"


def button(member_id: int, alert_id: int | None = None) -> str:
    return f"{PREFIX}{member_id}" + (f":{alert_id}" if alert_id is not None else "")


async def start_from_button(
    session: Session,
    data: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> Reply:
    """Compliment under the digest or a resolved alert: a pending compliment and the
    question for its line."""
    if re.fullmatch(BUTTON_PATTERN, data) is None:
        return reply("loop.not_yours")
    parts = [int(p) for p in data[len(PREFIX) :].split(":")]
    student = await student_of(session, parts[0], mentors)
    if student is None:
        return reply("loop.not_yours")
    alert_id = parts[1] if len(parts) > 1 else None
    return await _pending(session, student, mentors, user_id, now, alert_id)


async def _pending(
    session: Session,
    student: MemberRecord,
    mentors: dict[int, MemberRecord],
    user_id: int,
    now: datetime,
    alert_id: int | None = None,
) -> Reply:
    row_id = await _create(session, student, mentors, user_id, now, alert_id)
    return Reply("loop.compliment.ask_line", {"mark": PROMPT_MARK, "name": student.name},
                 prompt=("compliment", row_id))  # fmt: skip


async def from_command(
    session: Session,
    cohort_id: int,
    raw: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> Reply:
    """/compliment <student> [tekst]: sent at once with a text, else the line is asked."""
    named = await named_student(session, cohort_id, raw, "loop.compliment.usage")
    if isinstance(named, Reply):
        return named
    student, text = named
    if not text:
        return await _pending(session, student, mentors, user_id, now)
    row_id = await _create(session, student, mentors, user_id, now)
    return await fill_line(session, row_id, text, user_id, now)


async def _create(
    session: Session,
    student: MemberRecord,
    mentors: dict[int, MemberRecord],
    user_id: int,
    now: datetime,
    alert_id: int | None = None,
) -> int:
    row = await ComplimentRepo(session).create(
        cohort_id=student.cohort_id,
        member_id=student.id,
        alert_id=alert_id,
        written_by=mentors[student.cohort_id].name,
        written_by_user_id=user_id,
        created_at=now,
    )
    return row.id


async def fill_line(
    session: Session, compliment_id: int, text: str, user_id: int, now: datetime
) -> Reply:
    """The compliment's line: stored and sent to the student (once)."""
    problem = line_problem(text)
    if problem is not None:
        return problem
    repo = ComplimentRepo(session)
    row = await repo.get(compliment_id)
    if row is None or not await repo.send(compliment_id, text.strip(), now):
        return reply("loop.compliment.gone")
    student = await MemberRepo(session).get(row.member_id)
    assert student is not None
    lang = await language_of(session, student)
    message = Outgoing(t("loop.compliment.to_student", lang, text=text.strip()))
    reached = await queue_to_student(session, student, f"compliment:{row.id}", message, now)
    await AuditRepo(session).add(user_id, row.cohort_id, "compliment", f"compliment:{row.id}",
                                 now)  # fmt: skip
    return reply("loop.compliment.sent" if reached else "loop.compliment.unreachable",
                 name=student.name)  # fmt: skip
