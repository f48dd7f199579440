"""Rounds and the students' progress through them (participations); a student's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignore
from storage.models import Answer, Member, Participation, Round
from storage.records import RoundRecord, WeekStatus
from storage.repos.core import rows
from storage.repos.opening import OpeningRepo

# A student's first and last answer mark the participation: statements of the tap, built
# once (bound: `round`, `member`, `now`; an UPDATE keeps its columns' names for itself).
_TAKING: Table = Participation.__table__  # type: ignore[assignment]
_THIS_TAKING = (
    _TAKING.c.round_id == bindparam("round"),
    _TAKING.c.member_id == bindparam("member"),
)
_MARK_STARTED = (
    update(_TAKING)
    .where(*_THIS_TAKING, _TAKING.c.started_at.is_(None))
    .values(started_at=bindparam("now"))
)
_MARK_COMPLETED = (
    update(_TAKING)
    .where(*_THIS_TAKING, _TAKING.c.completed_at.is_(None))
    .values(completed_at=bindparam("now"))
    .returning(_TAKING.c.round_id)  # a row back: this statement completed it
)


def round_record(row: Round) -> RoundRecord:
    return RoundRecord(
        row.id, row.cohort_id, row.week, row.kind, row.status, row.due_at, row.closed_at
    )


class RoundRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_if_absent(
        self, cohort_id: int, week: int, kind: str, due_at: datetime, status: str = "open"
    ) -> tuple[RoundRecord, bool]:
        """The round of (cohort, week, kind), created now if it did not exist yet."""
        values = {
            "cohort_id": cohort_id,
            "week": week,
            "kind": kind,
            "due_at": due_at,
            "status": status,
        }
        created = await insert_ignore(
            self.session,
            Round.__table__,
            [values],
            ("cohort_id", "week", "kind"),  # type: ignore[arg-type]
        )
        found = await self.find(cohort_id, week, kind)
        assert found is not None
        return found, created > 0

    async def find(self, cohort_id: int, week: int, kind: str) -> RoundRecord | None:
        row = await self.session.scalar(
            select(Round).where(
                Round.cohort_id == cohort_id, Round.week == week, Round.kind == kind
            )
        )
        return None if row is None else round_record(row)

    async def get(self, round_id: int) -> RoundRecord | None:
        row = await self.session.get(Round, round_id)
        return None if row is None else round_record(row)

    async def latest(
        self, cohort_id: int, kind: str, status: str | None = "open"
    ) -> RoundRecord | None:
        query = select(Round).where(Round.cohort_id == cohort_id, Round.kind == kind)
        if status is not None:
            query = query.where(Round.status == status)
        row = await self.session.scalar(query.order_by(Round.week.desc()).limit(1))
        return None if row is None else round_record(row)

    async def close_others(
        self, cohort_id: int, kind: str, keep_id: int, now: datetime
    ) -> list[int]:
        """Close every open round of this kind but `keep_id`; returns the closed ids."""
        ids = list(
            await self.session.scalars(
                select(Round.id).where(
                    Round.cohort_id == cohort_id,
                    Round.kind == kind,
                    Round.status == "open",
                    Round.id != keep_id,
                )
            )
        )
        if ids:
            await self.session.execute(
                update(Round).where(Round.id.in_(ids)).values(status="closed", closed_at=now)
            )
        return ids

    async def close(self, round_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(Round)
            .where(Round.id == round_id, Round.status == "open")
            .values(status="closed", closed_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def of_cohort(self, cohort_id: int, kind: str | None = None) -> list[RoundRecord]:
        query = select(Round).where(Round.cohort_id == cohort_id)
        if kind is not None:
            query = query.where(Round.kind == kind)
        rows = await self.session.scalars(query.order_by(Round.week, Round.id))
        return [round_record(row) for row in rows]

    async def discard_skipped(self, cohort_id: int, week: int, kind: str) -> None:
        """Delete the marker of a round skipped as too late (it has no messages or answers)."""
        await self.session.execute(
            delete(Round).where(
                Round.cohort_id == cohort_id,
                Round.week == week,
                Round.kind == kind,
                Round.status == "skipped",
            )
        )

    # -- participation -------------------------------------------------------------------

    async def add_participants(self, round_id: int, member_ids: list[int]) -> None:
        await OpeningRepo(self.session).participations([(round_id, m) for m in member_ids])

    async def mark_started(self, round_id: int, member_id: int, now: datetime) -> None:
        values = {"round": round_id, "member": member_id, "now": now}
        await rows(self.session, _MARK_STARTED, values)

    async def mark_completed(self, round_id: int, member_id: int, now: datetime) -> bool:
        """True only the first time: the closing message and alert check happen once."""
        values = {"round": round_id, "member": member_id, "now": now}
        return bool(await rows(self.session, _MARK_COMPLETED, values))

    async def is_completed(self, round_id: int, member_id: int) -> bool:
        done = await self.session.scalar(
            select(Participation.completed_at).where(
                Participation.round_id == round_id, Participation.member_id == member_id
            )
        )
        return done is not None

    async def unfinished(self, round_id: int) -> list[int]:
        """Active students of the round who have not completed it."""
        rows = await self.session.scalars(
            select(Participation.member_id)
            .join(Member, Member.id == Participation.member_id)
            .where(
                Participation.round_id == round_id,
                Participation.completed_at.is_(None),
                Member.status == "active",
            )
        )
        return list(rows)


async def student_history(
    session: AsyncSession, cohort_id: int, member_id: int
) -> list[WeekStatus]:
    """One student's reflection weeks, oldest first: finished or not, and their ratings."""
    rounds = await RoundRepo(session).of_cohort(cohort_id, "reflection")
    rounds = [r for r in rounds if r.status != "skipped"]
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    done = set(
        await session.scalars(
            select(Participation.round_id).where(
                Participation.member_id == member_id,
                Participation.round_id.in_(ids),
                Participation.completed_at.is_not(None),
            )
        )
    )
    rated: dict[int, list[tuple[str, int]]] = {}
    rows = await session.execute(
        select(Answer.round_id, Answer.skill, Answer.rating).where(
            Answer.member_id == member_id, Answer.round_id.in_(ids), Answer.rating.is_not(None)
        )
    )
    for round_id, skill, rating in rows:
        rated.setdefault(round_id, []).append((skill or "", int(rating or 0)))
    return [WeekStatus(r.week, r.id in done, tuple(rated.get(r.id, []))) for r in rounds]
