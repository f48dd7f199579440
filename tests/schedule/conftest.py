"""Fixtures for the scheduler tests: settings, cohorts with active students, counting helpers.

Every instant is built in the cohort's zone (Europe/Amsterdam) and compared in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.runtime.config import Settings
from storage.db import Database
from storage.models import OutboxMessage, Round
from storage.records import CohortRecord
from storage.repos import CohortRepo
from tests.factories import add_member, make_cohort

AMS = ZoneInfo("Europe/Amsterdam")
START = date(2026, 8, 31)  # a Monday: ISO week 2026-W36 is plan week 1


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Amsterdam wall time (unambiguous ones only) as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=database_url)  # type: ignore[call-arg]


async def class_with_students(
    db: Database,
    name: str = "PW3A",
    start: date = START,
    students: int = 2,
    holidays: list[str] | None = None,
    **times: str,
) -> CohortRecord:
    """A cohort with `students` active students who each have a private chat."""
    async with db.transaction() as session:
        cohort_id = await make_cohort(session, name, start=start, holidays=holidays, **times)
        for n in range(students):
            user = cohort_id * 1000 + n
            await add_member(session, cohort_id, f"Student {name} {n}", user_id=user)
        found = await CohortRepo(session).get(cohort_id)
    assert found is not None
    return found


@dataclass(frozen=True)
class RoundRow:
    week: int
    kind: str
    status: str
    due_at: datetime


async def rounds_of(db: Database, kind: str | None = None) -> list[RoundRow]:
    query = select(Round.week, Round.kind, Round.status, Round.due_at).order_by(
        Round.due_at, Round.id
    )
    if kind is not None:
        query = query.where(Round.kind == kind)
    async with db.transaction() as session:
        return [RoundRow(*row) for row in await session.execute(query)]


async def outbox_by_kind(db: Database) -> dict[str, int]:
    """Outbox rows per kind of round; also checks that no (round, student) pair repeats."""
    async with db.transaction() as session:
        rows = list(
            await session.execute(
                select(Round.kind, OutboxMessage.round_id, OutboxMessage.member_id).join(
                    Round, Round.id == OutboxMessage.round_id
                )
            )
        )
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    pairs = [(round_id, member_id) for _kind, round_id, member_id in rows]
    assert len(pairs) == len(set(pairs)), "a student got the same round twice"
    assert total == len(rows), "outbox rows outside any round"
    counts: dict[str, int] = {}
    for kind, _round_id, _member_id in rows:
        counts[kind] = counts.get(kind, 0) + 1
    return counts
