"""The observation round on the scheduler's clock: Friday 16:00 by default, weekly or every
other week, one message per supervised student through the outbox, closed by the next one."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime.config import Settings
from bot.schedule.clock import FakeClock
from bot.schedule.scheduler import RoundScheduler
from storage.db import Database
from storage.models import OutboxMessage
from storage.repos import CohortRepo, MemberRepo
from storage.repos.observations import SupervisionRepo
from tests.schedule.conftest import class_with_students, local, rounds_of


async def add_werkbegeleider(db: Database, cohort_id: int, students: int) -> int:
    """A werkbegeleider linked to the first `students` students of the class."""
    async with db.transaction() as s:
        members = MemberRepo(s)
        wb = await members.add_active(
            cohort_id, "werkbegeleider", name="Ellen", telegram_user_id=90001, chat_id=90001,
            consent_version="v", now=local(2026, 8, 30, 12),
        )  # fmt: skip
        for student in (await members.in_cohort(cohort_id, "student"))[:students]:
            await SupervisionRepo(s).link(cohort_id, wb, student.id, local(2026, 8, 30, 12))
    return wb


async def werkbegeleider_rows(db: Database, prefix: str) -> list[str]:
    """Dedupe keys of the werkbegeleider's outbox rows: obs:… requests, round:… reminders."""
    async with db.transaction() as s:
        keys = await s.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.chat_id == 90001)
        )
        return [k for k in keys if k.startswith(prefix)]


async def test_weekly_on_friday_at_four_one_message_per_student(
    db: Database, settings: Settings
) -> None:
    cohort = await class_with_students(db, students=3)
    await add_werkbegeleider(db, cohort.id, students=2)
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 30, 12)))
    await scheduler.advance_to(local(2026, 9, 12, 6))  # the Saturday of week 2

    rounds = await rounds_of(db, "observation")
    assert [(r.week, r.due_at, r.status) for r in rounds] == [
        (1, local(2026, 9, 4, 16), "closed"),  # the next one closed it
        (2, local(2026, 9, 11, 16), "open"),
    ]
    assert len(await werkbegeleider_rows(db, "obs:")) == 4  # two rounds × two students
    assert len(await werkbegeleider_rows(db, "round:")) == 1  # week 1's one reminder


async def test_every_other_week_runs_in_odd_weeks_only(db: Database, settings: Settings) -> None:
    cohort = await class_with_students(db, observation_at="thu 15:00")
    async with db.transaction() as s:
        await CohortRepo(s).update_settings(cohort.id, observation_every=2)
    await add_werkbegeleider(db, cohort.id, students=1)
    scheduler = RoundScheduler(db, settings, clock=FakeClock(local(2026, 8, 30, 12)))
    await scheduler.advance_to(local(2026, 9, 27, 6))  # four weeks

    rounds = await rounds_of(db, "observation")
    assert [(r.week, r.due_at) for r in rounds] == [
        (1, local(2026, 9, 3, 15)),
        (3, local(2026, 9, 17, 15)),
    ]
    assert len(await werkbegeleider_rows(db, "obs:")) == 2
