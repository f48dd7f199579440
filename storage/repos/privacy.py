"""A student's own data: what the /mijngegevens export reads and what leaving with /stop
changes. The tables come from the registry in `storage.personal_data`; the export's sections
are plain JSON values (the export is a document, so no record type sits in between)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.db import Session
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
from storage.personal_data import erased_by_member

STOPPED = "stopped"
UNFINISHED_ALERTS = ("open", "acknowledged", "muted")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class OwnDataRepo:
    """Reads for the export: everything stored about one student, nothing of anyone else."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def language(self, telegram_user_id: int) -> str | None:
        return await self.session.scalar(
            select(UserSetting.language).where(UserSetting.telegram_user_id == telegram_user_id)
        )

    async def answers(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.execute(
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

    async def participations(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.execute(
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

    async def prompts(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(Prompt.question_key, Prompt.created_at, Round.week, Round.kind)
            .join(Round, Round.id == Prompt.round_id)
            .where(Prompt.member_id == member_id)
            .order_by(Prompt.created_at, Prompt.question_key)
        )
        return [
            {"week": week, "round": kind, "question_key": key, "sent_at": _iso(created)}
            for key, created, week, kind in rows
        ]

    async def questions(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
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

    async def alerts(self, member_id: int) -> list[dict[str, Any]]:
        """The student's alerts; `evidence` is as stored (the caller leaves out other people)."""
        rows = await self.session.scalars(
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
                "evidence": dict(a.evidence or {}),
            }
            for a in rows
        ]

    async def views(self, cohort_id: int, member_id: int) -> list[dict[str, Any]]:
        """When the mentor team looked at this student's history (the mentor is not named)."""
        rows = await self.session.execute(
            select(AuditEntry.at, AuditEntry.action)
            .where(AuditEntry.cohort_id == cohort_id, AuditEntry.target == f"member:{member_id}")
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return [{"at": _iso(at), "action": action} for at, action in rows]


class ErasureRepo:
    """What leaving with /stop changes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def claim_stop(self, member_id: int) -> bool:
        """Mark the student stopped and unlink Telegram; False when it was already stopped."""
        claimed = await self.session.execute(
            update(Member)
            .where(Member.id == member_id, Member.role == "student", Member.status != STOPPED)
            .values(status=STOPPED, telegram_user_id=None, chat_id=None)
        )
        return bool(getattr(claimed, "rowcount", 0))

    async def cancel_pending(self, member_id: int, error: str) -> int:
        """Pending outbox rows to the student become failed with `error`; returns how many."""
        return await self._count(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member_id, OutboxMessage.status == "pending")
            .values(status="failed", last_error=error)
        )

    async def close_alerts(self, member_id: int, now: datetime) -> None:
        """Resolve the student's unfinished alerts quietly (not reported in the digest)."""
        await self.session.execute(
            update(Alert)
            .where(Alert.member_id == member_id, Alert.status.in_(UNFINISHED_ALERTS))
            .values(status="resolved", open_key=None, resolved_at=now, resolution_reported=True)
        )

    async def forget_user_settings(self, telegram_user_id: int) -> None:
        """Delete the user's settings once no membership uses the Telegram number."""
        still = await self.session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.telegram_user_id == telegram_user_id)
        )
        if not still:
            await self.session.execute(
                delete(UserSetting).where(UserSetting.telegram_user_id == telegram_user_id)
            )

    async def delete_student(self, member_id: int, cohort_id: int) -> int:
        """Delete everything about one student, the member row last; returns the rows deleted."""
        removed = await self._delete_outbox(member_id)
        await self._scrub_class_alerts(member_id, cohort_id)
        for table in erased_by_member():
            column = table.table.c[table.member_column or "member_id"]
            removed += await self._count(delete(table.table).where(column == member_id))
        removed += await self._count(delete(Member).where(Member.id == member_id))
        return removed

    async def _delete_outbox(self, member_id: int) -> int:
        """The student's own rows and the copies of their words in messages to the team."""
        alert_ids = list(
            await self.session.scalars(select(Alert.id).where(Alert.member_id == member_id))
        )
        question_ids = list(
            await self.session.scalars(
                select(StudentQuestion.id).where(StudentQuestion.member_id == member_id)
            )
        )
        about = [OutboxMessage.dedupe_key.like(f"alert:{a}:%") for a in alert_ids]
        about += [OutboxMessage.dedupe_key.like(f"question:{q}:%") for q in question_ids]
        # rows being sent too: one left for the sender would be marked sent and keep the
        # student's words; the sender's outcome of a deleted row changes nothing (an UPDATE
        # by id that finds no row)
        return await self._count(
            delete(OutboxMessage).where(or_(OutboxMessage.member_id == member_id, *about))
        )

    async def _scrub_class_alerts(self, member_id: int, cohort_id: int) -> None:
        """Class alerts keep their figures but lose any item that names this student."""
        rows = await self.session.scalars(
            select(Alert).where(Alert.cohort_id == cohort_id, Alert.member_id.is_(None))
        )
        for alert in rows:
            items = alert.evidence.get("items", [])
            kept = [
                i for i in items if not (isinstance(i, dict) and i.get("student_id") == member_id)
            ]
            if len(kept) != len(items):
                alert.evidence = {**alert.evidence, "items": kept}
        await self.session.flush()

    async def _count(self, statement: Any) -> int:
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)
