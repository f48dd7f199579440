"""A student's own data (SPEC §4 "Own data", §9): the export behind /mijngegevens and leaving
with /stop. No Telegram here: handlers/privacy.py turns these results into replies.

Leaving (`stop_student`) always stops the rounds at once: the membership becomes `stopped`
(rounds go to `active` members only), its pending outbox rows are cancelled, and the Telegram
number and chat are blanked, so the bot can never write to the student again and the same
person can join again later with a new code. What happens to the rest follows
`MENTORBOT_DELETE_ON_STOP`:

* true  – everything about the student is deleted, the member row included (not renamed to
  "verwijderd": a row that says nothing is of no use to the team and still counts as a person);
* false – name, answers, questions and alerts stay for the mentor team until the retention
  period (`bot.people.retention`) removes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team, team_language
from bot.texts import t
from storage.models import (
    Alert,
    Answer,
    AuditEntry,
    Member,
    OutboxMessage,
    Participation,
    Prompt,
    Round,
    StudentQuestion,
    UserSetting,
)
from storage.records import MemberRecord
from storage.repos import CohortRepo
from storage.repos.alerts import AuditRepo

EXPORT_FILENAME = "mijngegevens.json"
EXPORT_FORMAT = "mentorbot-mijngegevens-1"
STOP_PREFIX = "st:"
STOP_YES = "st:y:"
STOP_NO = "st:n:"
STOP_PATTERN = r"^st:[yn]:\d{1,12}$"
STOPPED = "stopped"
CANCELLED_ERROR = "stopped"
UNFINISHED = ("open", "acknowledged", "muted")


def own_student(memberships: tuple[MemberRecord, ...]) -> MemberRecord | None:
    """The student membership this Telegram user may see and end: the active one, else one
    that is still linked but not active (e.g. `unreachable` after a block)."""
    students = [m for m in memberships if m.role == "student" and m.status != STOPPED]
    active = [m for m in students if m.is_active]
    if active:
        return active[-1]
    return students[-1] if students else None


# ----------------------------------------------------------------------------- export


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def export_data(session: AsyncSession, member: MemberRecord, now: datetime) -> dict[str, Any]:
    """Everything stored about this student, as plain JSON values: nothing of anyone else."""
    cohort = await CohortRepo(session).get(member.cohort_id)
    language = None
    if member.telegram_user_id is not None:
        language = await session.scalar(
            select(UserSetting.language).where(
                UserSetting.telegram_user_id == member.telegram_user_id
            )
        )
    return {
        "format": EXPORT_FORMAT,
        "created_at": _iso(now),
        "membership": {
            "name": member.name,
            "organisation": member.organisation,
            "cohort": cohort.name if cohort is not None else None,
            "role": member.role,
            "status": member.status,
            "joined_at": _iso(member.joined_at),
            "consent": {
                "given_at": _iso(member.consent_at),
                "text_version": member.consent_version,
            },
            "telegram_user_id": member.telegram_user_id,
            "telegram_chat_id": member.chat_id,
        },
        "settings": {"language": language or "nl", "language_chosen": language is not None},
        "answers": await _answers(session, member.id),
        "rounds": await _participations(session, member.id),
        "questions_sent_to_you": await _prompts(session, member.id),
        "questions_to_mentor_team": await _questions(session, member.id),
        "alerts_about_you": await _alerts(session, member.id),
        "viewed_by_mentor_team": await _views(session, member),
    }


async def _answers(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Answer, Round.week, Round.kind)
        .join(Round, Round.id == Answer.round_id)
        .where(Answer.member_id == member_id)
        .order_by(Round.due_at, Answer.id)
    )
    return [
        {
            "week": week,
            "round": kind,
            "question_key": a.question_key,
            "kind": a.kind,
            "skill": a.skill,
            "rating": a.rating,
            "choice": a.choice,
            "text": a.text,
            "skipped": a.skipped,
            "answered_at": _iso(a.answered_at),
            "updated_at": _iso(a.updated_at),
        }
        for a, week, kind in rows
    ]


async def _participations(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Participation, Round.week, Round.kind, Round.due_at)
        .join(Round, Round.id == Participation.round_id)
        .where(Participation.member_id == member_id)
        .order_by(Round.due_at, Participation.id)
    )
    return [
        {
            "week": week,
            "round": kind,
            "sent_at": _iso(due_at),
            "started_at": _iso(p.started_at),
            "completed_at": _iso(p.completed_at),
            "reminded_at": _iso(p.reminded_at),
        }
        for p, week, kind, due_at in rows
    ]


async def _prompts(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Prompt.question_key, Prompt.created_at, Round.week, Round.kind)
        .join(Round, Round.id == Prompt.round_id)
        .where(Prompt.member_id == member_id)
        .order_by(Prompt.created_at, Prompt.question_key)
    )
    return [
        {"week": week, "round": kind, "question_key": key, "sent_at": _iso(created)}
        for key, created, week, kind in rows
    ]


async def _questions(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(StudentQuestion)
        .where(StudentQuestion.member_id == member_id)
        .order_by(StudentQuestion.asked_at, StudentQuestion.id)
    )
    return [
        {
            "number": q.id,
            "question": q.text,
            "asked_at": _iso(q.asked_at),
            "answer": q.answer_text,
            "answered_by": q.answered_by,
            "answered_at": _iso(q.answered_at),
        }
        for q in rows
    ]


async def _alerts(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Alert).where(Alert.member_id == member_id).order_by(Alert.raised_at, Alert.id)
    )
    return [
        {
            "kind": a.kind,
            "skill": a.skill,
            "status": a.status,
            "raised_at": _iso(a.raised_at),
            "week": a.raised_week,
            "times_raised": a.raise_count,
            "seen_by": a.acknowledged_by,
            "seen_at": _iso(a.acknowledged_at),
            "on_agenda": a.discuss,
            "muted_until": _iso(a.muted_until),
            "resolved_at": _iso(a.resolved_at),
            "evidence": _own_evidence(a.evidence, member_id),
        }
        for a in rows
    ]


def _own_evidence(evidence: dict[str, Any], member_id: int) -> dict[str, Any]:
    """The alert's evidence without any item about another student (class figures stay:
    they are totals, not people)."""
    items = [
        item
        for item in evidence.get("items", [])
        if isinstance(item, dict) and item.get("student_id") in (None, member_id)
    ]
    return {"weeks": list(evidence.get("weeks", [])), "items": items}


async def _views(session: AsyncSession, member: MemberRecord) -> list[dict[str, Any]]:
    """When the mentor team looked at this student's history (from the audit log; the mentor
    is not named here, that is the mentor's own data)."""
    rows = await session.execute(
        select(AuditEntry.at, AuditEntry.action)
        .where(
            AuditEntry.cohort_id == member.cohort_id,
            AuditEntry.target == f"member:{member.id}",
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [{"at": _iso(at), "action": action} for at, action in rows]


def export_json(data: dict[str, Any]) -> bytes:
    """The export as readable UTF-8 JSON (accents and emoji kept as they are)."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------- stop


@dataclass(frozen=True)
class Stopped:
    """What `stop_student` did."""

    member_id: int
    cohort_id: int
    deleted: bool
    cancelled: int  # pending outbox rows that will not be sent
    removed: int  # rows deleted (0 when the data is kept)
    team_told: int  # notices queued to the team (0 on a repeat)


async def stop_student(
    session: AsyncSession, member: MemberRecord, *, delete_data: bool, now: datetime
) -> Stopped | None:
    """End this student's membership in the caller's transaction; None when it was already
    ended (a double tap, another instance): then nothing changes and nobody is told twice."""
    claimed = await session.execute(
        update(Member)
        .where(Member.id == member.id, Member.role == "student", Member.status != STOPPED)
        .values(status=STOPPED, telegram_user_id=None, chat_id=None)
    )
    if not getattr(claimed, "rowcount", 0):
        return None
    cohort = await CohortRepo(session).get(member.cohort_id)
    fate = "privacy.team_fate_deleted" if delete_data else "privacy.team_fate_kept"
    lang = await team_language(session, member.cohort_id)
    notice = t(
        "privacy.team_stopped",
        lang,
        name=member.name,
        cohort=cohort.name if cohort is not None else "",
        fate=t(fate, lang),
    )
    told = await notify_team(
        session, member.cohort_id, f"stopped:{member.id}", Outgoing(notice), now
    )
    cancelled = await _cancel_pending(session, member.id)
    removed = 0
    if delete_data:
        removed = await delete_student_data(session, member)
    else:
        await _close_alerts(session, member.id, now)
    if member.telegram_user_id is not None:
        await _forget_user_settings(session, member.telegram_user_id)
    await AuditRepo(session).add(
        None,
        member.cohort_id,
        "student_stopped",
        f"member:{member.id}:{'deleted' if delete_data else 'kept'}",
        now,
    )
    return Stopped(member.id, member.cohort_id, delete_data, cancelled, removed, told)


async def _cancel_pending(session: AsyncSession, member_id: int) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.member_id == member_id, OutboxMessage.status == "pending")
        .values(status="failed", last_error=CANCELLED_ERROR)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _close_alerts(session: AsyncSession, member_id: int, now: datetime) -> None:
    """A student who left has no open gap any more: close them quietly (not reported as
    resolved in the digest), so that the retention period can remove them."""
    await session.execute(
        update(Alert)
        .where(Alert.member_id == member_id, Alert.status.in_(UNFINISHED))
        .values(status="resolved", open_key=None, resolved_at=now, resolution_reported=True)
    )


async def _forget_user_settings(session: AsyncSession, telegram_user_id: int) -> None:
    """The language choice is tied to the Telegram number: gone once no membership uses it."""
    still = await session.scalar(
        select(func.count()).select_from(Member).where(Member.telegram_user_id == telegram_user_id)
    )
    if not still:
        await session.execute(
            delete(UserSetting).where(UserSetting.telegram_user_id == telegram_user_id)
        )


async def delete_student_data(session: AsyncSession, member: MemberRecord) -> int:
    """Delete everything about one student, the member row last; returns the rows deleted."""
    member_id = member.id
    alert_ids = list(await session.scalars(select(Alert.id).where(Alert.member_id == member_id)))
    question_ids = list(
        await session.scalars(
            select(StudentQuestion.id).where(StudentQuestion.member_id == member_id)
        )
    )
    # copies of their words in messages to the team (alerts, questions), and their own rows
    about = [OutboxMessage.dedupe_key.like(f"alert:{a}:%") for a in alert_ids]
    about += [OutboxMessage.dedupe_key.like(f"question:{q}:%") for q in question_ids]
    removed = await _count(
        session,
        delete(OutboxMessage).where(
            OutboxMessage.status != "sending",
            or_(OutboxMessage.member_id == member_id, *about),
        ),
    )
    await _scrub_class_alerts(session, member)
    for model in (Answer, Participation, Prompt, StudentQuestion, Alert):
        removed += await _count(session, delete(model).where(model.member_id == member_id))
    removed += await _count(session, delete(Member).where(Member.id == member_id))
    return removed


async def _scrub_class_alerts(session: AsyncSession, member: MemberRecord) -> None:
    """Class alerts keep their figures but lose any item that names this student."""
    rows = await session.scalars(
        select(Alert).where(Alert.cohort_id == member.cohort_id, Alert.member_id.is_(None))
    )
    for alert in rows:
        items = alert.evidence.get("items", [])
        kept = [i for i in items if not (isinstance(i, dict) and i.get("student_id") == member.id)]
        if len(kept) != len(items):
            alert.evidence = {**alert.evidence, "items": kept}
    await session.flush()


async def _count(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
