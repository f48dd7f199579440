"""Werkbegeleiders: who supervises whom, their observations, and the field's signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update

from storage.db import Session
from storage.dialect import insert_ignore
from storage.models import (
    Agreement,
    FieldSignal,
    Member,
    Observation,
    OutboxMessage,
    Participation,
    Prompt,
    Round,
    Supervision,
)
from storage.records import ObservationRecord, SignalRecord, SupervisionRecord

NOTE_SKILL = "__note__"  # the optional line after a student's skills
ROLE = "werkbegeleider"
STOPPED = "stopped"


def _supervision(row: Supervision) -> SupervisionRecord:
    return SupervisionRecord(
        row.id, row.cohort_id, row.werkbegeleider_id, row.student_id, row.linked_at, row.ended_at
    )


def _signal(row: FieldSignal) -> SignalRecord:
    return SignalRecord(
        row.id, row.cohort_id, row.member_id, row.role, row.text, row.skill, row.sent_at
    )


class SupervisionRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def link(
        self, cohort_id: int, werkbegeleider_id: int, student_id: int, now: datetime
    ) -> None:
        """Link (or link again after an unlink); the pair exists once."""
        await insert_ignore(
            self.session,
            Supervision.__table__,  # type: ignore[arg-type]
            [{"cohort_id": cohort_id, "werkbegeleider_id": werkbegeleider_id,
              "student_id": student_id, "linked_at": now}],
            ("werkbegeleider_id", "student_id"),
        )  # fmt: skip
        await self.session.execute(
            update(Supervision)
            .where(
                Supervision.werkbegeleider_id == werkbegeleider_id,
                Supervision.student_id == student_id,
            )
            .values(ended_at=None)
        )

    async def end(self, supervision_id: int, now: datetime) -> SupervisionRecord | None:
        row = await self.session.get(Supervision, supervision_id)
        if row is None or row.ended_at is not None:
            return None
        row.ended_at = now
        await self.session.flush()
        return _supervision(row)

    async def get(self, supervision_id: int) -> SupervisionRecord | None:
        row = await self.session.get(Supervision, supervision_id)
        return None if row is None else _supervision(row)

    async def of_student(self, student_id: int) -> list[SupervisionRecord]:
        """The student's current werkbegeleiders (active members, not unlinked)."""
        rows = await self.session.scalars(
            select(Supervision)
            .join(Member, Member.id == Supervision.werkbegeleider_id)
            .where(
                Supervision.student_id == student_id,
                Supervision.ended_at.is_(None),
                Member.status == "active",
            )
            .order_by(Supervision.id)
        )
        return [_supervision(row) for row in rows]

    async def of_werkbegeleider(self, werkbegeleider_id: int) -> list[SupervisionRecord]:
        """The students this werkbegeleider supervises now (active students only)."""
        rows = await self.session.scalars(
            select(Supervision)
            .join(Member, Member.id == Supervision.student_id)
            .where(
                Supervision.werkbegeleider_id == werkbegeleider_id,
                Supervision.ended_at.is_(None),
                Member.status == "active",
            )
            .order_by(Supervision.id)
        )
        return [_supervision(row) for row in rows]

    async def all_of(self, member_id: int) -> list[SupervisionRecord]:
        """Every link this member is part of, on either side, ended or not (privacy export)."""
        rows = await self.session.scalars(
            select(Supervision)
            .where(
                (Supervision.werkbegeleider_id == member_id) | (Supervision.student_id == member_id)
            )
            .order_by(Supervision.id)
        )
        return [_supervision(row) for row in rows]


class ObservationRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def save(
        self,
        round_id: int,
        werkbegeleider_id: int,
        student_id: int,
        skill: str,
        *,
        level: int | None,
        text: str | None,
        now: datetime,
    ) -> bool:
        """Store or change one observation; True when something changed."""
        row = await self.session.scalar(
            select(Observation).where(
                Observation.round_id == round_id,
                Observation.werkbegeleider_id == werkbegeleider_id,
                Observation.student_id == student_id,
                Observation.skill == skill,
            )
        )
        if row is None:
            inserted = await insert_ignore(
                self.session,
                Observation.__table__,  # type: ignore[arg-type]
                [{"round_id": round_id, "werkbegeleider_id": werkbegeleider_id,
                  "student_id": student_id, "skill": skill, "level": level, "text": text,
                  "answered_at": now, "updated_at": now}],
                ("round_id", "werkbegeleider_id", "student_id", "skill"),
            )  # fmt: skip
            return inserted > 0
        if row.level == level and row.text == text:
            return False
        row.level, row.text, row.updated_at = level, text, now
        await self.session.flush()
        return True

    async def in_round(
        self, round_id: int, werkbegeleider_id: int, student_id: int | None = None
    ) -> list[ObservationRecord]:
        query = self._query().where(
            Observation.round_id == round_id, Observation.werkbegeleider_id == werkbegeleider_id
        )
        if student_id is not None:
            query = query.where(Observation.student_id == student_id)
        return await self._records(query)

    async def of_cohort(self, cohort_id: int) -> list[ObservationRecord]:
        """Every observation (and line) in the cohort's observation rounds, oldest week first."""
        return await self._records(self._query().where(Round.cohort_id == cohort_id))

    async def closed_levels(self, cohort_id: int) -> list[tuple[int, int, str, int, int]]:
        """(student id, week, skill, level, werkbegeleider id) of the closed observation rounds'
        evidence (a level, not the optional line), oldest week first. They can no longer
        change, so the per-answer gap check keeps them (`bot.gaps.cache`) and reads only the
        open rounds' each time (`storage.repos.gap_query`)."""
        rows = await self.session.execute(
            select(
                Observation.student_id,
                Round.week,
                Observation.skill,
                Observation.level,
                Observation.werkbegeleider_id,
            )
            .join(Round, Round.id == Observation.round_id)
            .where(
                Round.cohort_id == cohort_id,
                Round.kind == "observation",
                Round.status != "open",
                Observation.level.is_not(None),
                Observation.skill != NOTE_SKILL,
            )
            .order_by(Round.week, Observation.id)
        )
        return [
            (sid, week, skill, level, wb)
            for sid, week, skill, level, wb in rows
            if level is not None
        ]

    async def about_student(self, student_id: int) -> list[ObservationRecord]:
        return await self._records(self._query().where(Observation.student_id == student_id))

    async def by_werkbegeleider(self, werkbegeleider_id: int) -> list[ObservationRecord]:
        return await self._records(
            self._query().where(Observation.werkbegeleider_id == werkbegeleider_id)
        )

    async def answered_rounds(self, round_ids: Sequence[int]) -> set[tuple[int, int]]:
        """(round id, werkbegeleider id) pairs with at least one observation."""
        if not round_ids:
            return set()
        rows = await self.session.execute(
            select(Observation.round_id, Observation.werkbegeleider_id)
            .where(Observation.round_id.in_(list(round_ids)))
            .group_by(Observation.round_id, Observation.werkbegeleider_id)
        )
        return {(r, w) for r, w in rows}

    async def delete_by_werkbegeleider(self, werkbegeleider_id: int) -> int:
        result = await self.session.execute(
            delete(Observation).where(Observation.werkbegeleider_id == werkbegeleider_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _query(self):  # type: ignore[no-untyped-def]
        return (
            select(Observation, Round.week)
            .join(Round, Round.id == Observation.round_id)
            .order_by(Round.week, Observation.id)
        )

    async def _records(self, query) -> list[ObservationRecord]:  # type: ignore[no-untyped-def]
        rows = await self.session.execute(query)
        return [
            ObservationRecord(
                o.round_id,
                week,
                o.werkbegeleider_id,
                o.student_id,
                o.skill,
                o.level,
                o.text,
                o.answered_at,
            )
            for o, week in rows
        ]


class SignalRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(
        self,
        cohort_id: int,
        member_id: int | None,
        role: str,
        text: str,
        skill: str | None,
        now: datetime,
    ) -> SignalRecord:
        row = FieldSignal(
            cohort_id=cohort_id, member_id=member_id, role=role, text=text, skill=skill, sent_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return _signal(row)

    async def between(
        self, start: datetime, end: datetime, cohort_ids: Sequence[int] | None = None
    ) -> list[SignalRecord]:
        query = select(FieldSignal).where(FieldSignal.sent_at >= start, FieldSignal.sent_at < end)
        if cohort_ids is not None:
            query = query.where(FieldSignal.cohort_id.in_(list(cohort_ids)))
        rows = await self.session.scalars(query.order_by(FieldSignal.sent_at, FieldSignal.id))
        return [_signal(row) for row in rows]

    async def of_member(self, member_id: int) -> list[SignalRecord]:
        rows = await self.session.scalars(
            select(FieldSignal).where(FieldSignal.member_id == member_id).order_by(FieldSignal.id)
        )
        return [_signal(row) for row in rows]

    async def count(self, cohort_id: int) -> int:
        found = await self.session.scalar(
            select(func.count()).select_from(FieldSignal).where(FieldSignal.cohort_id == cohort_id)
        )
        return int(found or 0)


class WerkbegeleiderRepo:
    """A werkbegeleider leaving with /stop: the claim, the links, and erasure."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def claim_stop(self, member_id: int) -> bool:
        """Mark them stopped and unlink Telegram; False when they had stopped already."""
        claimed = await self.session.execute(
            update(Member)
            .where(Member.id == member_id, Member.role == ROLE, Member.status != STOPPED)
            .values(status=STOPPED, telegram_user_id=None, chat_id=None)
        )
        return bool(getattr(claimed, "rowcount", 0))

    async def end_links(self, member_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Supervision)
            .where(Supervision.werkbegeleider_id == member_id, Supervision.ended_at.is_(None))
            .values(ended_at=now)
        )

    async def delete_werkbegeleider(self, member_id: int) -> int:
        """Their observations (with their answers about agreements), prompts, progress,
        unsent messages and the member row."""
        removed = 0
        statements = [
            delete(Observation).where(Observation.werkbegeleider_id == member_id),
            update(Agreement)
            .where(Agreement.workplace_by == member_id)
            .values(
                workplace_outcome=None,
                workplace_note=None,
                workplace_round_id=None,
                workplace_outcome_at=None,
                workplace_by=None,
            ),
            delete(Participation).where(Participation.member_id == member_id),
            delete(Prompt).where(Prompt.member_id == member_id),
            delete(OutboxMessage).where(
                OutboxMessage.member_id == member_id, OutboxMessage.status != "sending"
            ),
            delete(Member).where(Member.id == member_id),
        ]
        for statement in statements:
            result = await self.session.execute(statement)
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed
