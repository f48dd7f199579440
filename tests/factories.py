"""Shared factories for stored test scenarios: cohorts, students and mentors (answers and
rounds are built by each feature's helpers on top of these, with that feature's plan).

Every timestamp is fixed: tests own their clock and never read today's date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.plans import default_plan_text, load_plan
from storage.db import Database
from storage.repos import CohortRepo, MemberRepo

COHORT_START = date(2026, 9, 1)  # a Tuesday: ISO week 2026-W36 is plan week 1
JOINED = datetime(2026, 9, 4, 12, 0, tzinfo=UTC)  # the Friday of the first plan week
ZONE = "Europe/Amsterdam"

_user_ids: Iterator[int] = iter(range(900_000, 999_999))


async def make_cohort(
    where: AsyncSession | Database,
    name: str = "PW3A",
    *,
    start: date = COHORT_START,
    plan: str | None = None,
    holidays: list[str] | None = None,
    timezone: str = ZONE,
    **times: str,
) -> int:
    """A cohort (in the session's transaction, or in its own on a Database); `plan` is its
    plan's YAML, `holidays` go into the default plan; `times` e.g. reflection_at="thu 15:00"."""
    if isinstance(where, Database):
        async with where.transaction() as session:
            return await make_cohort(
                session,
                name,
                start=start,
                plan=plan,
                holidays=holidays,
                timezone=timezone,
                **times,
            )
    if holidays:
        plan = default_plan_text().replace("holidays: []", f"holidays: {holidays!r}")
        assert plan != default_plan_text()
    repo = CohortRepo(where)
    cohort = await repo.create(name, start, timezone, **times)
    if plan is not None:
        load_plan(plan, source="test")  # fail early on a mistake in the test's plan
        await repo.update_settings(cohort.id, plan_yaml=plan, plan_version=1)
    return cohort.id


async def add_member(
    s: AsyncSession,
    cohort_id: int,
    name: str,
    role: str = "student",
    user_id: int | None = None,
    now: datetime = JOINED,
) -> int:
    """An active member with a private chat (a student has agreed to the privacy terms)."""
    uid = user_id if user_id is not None else next(_user_ids)
    return await MemberRepo(s).add_active(
        cohort_id,
        role,
        name=name,
        telegram_user_id=uid,
        chat_id=uid,
        consent_version="test" if role == "student" else None,
        now=now,
    )


async def add_student(s: AsyncSession, cohort_id: int, name: str, user_id: int) -> int:
    return await add_member(s, cohort_id, name, "student", user_id)


async def add_mentor(s: AsyncSession, cohort_id: int, name: str, user_id: int) -> int:
    return await add_member(s, cohort_id, name, "mentor", user_id)


async def add_students(s: AsyncSession, cohort_id: int, names: list[str]) -> list[int]:
    return [await add_member(s, cohort_id, name) for name in names]
