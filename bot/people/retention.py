"""Deleting what is kept longer than the retention period (MENTORBOT_RETENTION_DAYS, SPEC §9).

Runs once at start and then daily (bot/services.py); every statement is a plain DELETE with a
cut-off, so running it twice, or on two instances at once, deletes nothing extra.

What goes, when it is older than the period:
* answers (by `answered_at`), and everything of a round that was due before the cut-off: its
  answers, participations (who got it, who finished) and prompts (the question messages);
* students' questions to the team (by `asked_at`), with their answers;
* alerts that are resolved (by `resolved_at`); open ones stay until they are resolved;
* learning agreements (by `made_at`), meeting notes and compliments (by `created_at`);
* finished outbox rows (sent, failed, unreachable; by `created_at`): they hold copies of
  alert and question texts;
* audit log entries (by `at`);
* students who left with /stop while their data was kept, once nothing of theirs is left and
  they joined before the cut-off.
Rounds and cohorts stay: they say nothing about a person.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import (
    Agreement,
    Alert,
    Answer,
    AuditEntry,
    Compliment,
    LoopNote,
    Member,
    OutboxMessage,
    Participation,
    Prompt,
    Round,
    StudentQuestion,
)

log = logging.getLogger(__name__)

FINISHED_OUTBOX = ("sent", "failed", "unreachable")


class RetentionSettings(Protocol):
    """What retention reads of the settings (the runtime's Settings has it)."""

    retention_days: int


def cutoff(settings: RetentionSettings, now: datetime) -> datetime:
    """Rows from before this moment are past the retention period."""
    return now - timedelta(days=settings.retention_days)


async def purge_expired(db: Database, settings: RetentionSettings, now: datetime) -> int:
    """Delete everything past the retention period (see the module text); returns how many
    rows went."""
    limit = cutoff(settings, now)
    async with db.transaction() as session:
        counts = await purge_in(session, limit)
    total = sum(counts.values())
    if total:
        log.info(
            "retention cutoff=%s %s",
            limit.date().isoformat(),
            " ".join(f"{name}={n}" for name, n in counts.items() if n),
        )
    return total


async def purge_in(session: AsyncSession, limit: datetime) -> dict[str, int]:
    """The purge in the caller's transaction; rows deleted per table."""
    old_rounds = select(Round.id).where(Round.due_at < limit).scalar_subquery()
    counts = {
        "answers": await _delete(
            session,
            delete(Answer).where(or_(Answer.answered_at < limit, Answer.round_id.in_(old_rounds))),
        ),
        "participations": await _delete(
            session, delete(Participation).where(Participation.round_id.in_(old_rounds))
        ),
        "prompts": await _delete(session, delete(Prompt).where(Prompt.round_id.in_(old_rounds))),
        "student_questions": await _delete(
            session, delete(StudentQuestion).where(StudentQuestion.asked_at < limit)
        ),
        "alerts": await _delete(
            session,
            delete(Alert).where(
                Alert.status == "resolved",
                Alert.resolved_at.is_not(None),
                Alert.resolved_at < limit,
            ),
        ),
        "outbox": await _delete(
            session,
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(FINISHED_OUTBOX), OutboxMessage.created_at < limit
            ),
        ),
        "audit_log": await _delete(session, delete(AuditEntry).where(AuditEntry.at < limit)),
        "agreements": await _delete(session, delete(Agreement).where(Agreement.made_at < limit)),
        "loop_notes": await _delete(session, delete(LoopNote).where(LoopNote.created_at < limit)),
        "compliments": await _delete(
            session, delete(Compliment).where(Compliment.created_at < limit)
        ),
    }
    counts["stopped_members"] = await _delete(session, _stopped_members_without_data(limit))
    return counts


def _stopped_members_without_data(limit: datetime) -> Any:
    member = Member.id
    left_behind = [
        exists().where(model.member_id == member)
        for model in (Answer, Participation, Prompt, StudentQuestion, Alert)
    ]
    left_behind += [
        exists().where(loop_model.member_id == member)
        for loop_model in (Agreement, LoopNote, Compliment)
    ]
    return delete(Member).where(
        Member.role == "student",
        Member.status == "stopped",
        or_(Member.joined_at.is_(None), Member.joined_at < limit),
        and_(*(~clause for clause in left_behind)),
    )


async def _delete(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
