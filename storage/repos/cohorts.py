"""Cohorts: create, find, list, and the per-cohort settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cohort
from storage.records import CohortRecord


def to_record(row: Cohort) -> CohortRecord:
    return CohortRecord(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        start_date=row.start_date,
        expectations_at=row.expectations_at,
        reflection_at=row.reflection_at,
        reminder_at=row.reminder_at,
        digest_at=row.digest_at,
        plan_version=row.plan_version,
        group_chat_id=row.group_chat_id,
        schedule_version=row.schedule_version,
        gap_settings=dict(row.gap_settings or {}),
        observation_at=row.observation_at,
        observation_every=row.observation_every,
    )


class CohortExists(Exception):
    """A cohort of that name exists already."""


class CohortRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, name: str, start_date: date, timezone: str, **times: str
    ) -> CohortRecord:
        if await self.by_name(name) is not None:
            raise CohortExists(name)
        row = Cohort(name=name, start_date=start_date, timezone=timezone, gap_settings={}, **times)
        self.session.add(row)
        await self.session.flush()
        return to_record(row)

    async def by_name(self, name: str) -> CohortRecord | None:
        row = await self.session.scalar(select(Cohort).where(Cohort.name == name))
        return None if row is None else to_record(row)

    async def get(self, cohort_id: int) -> CohortRecord | None:
        row = await self.session.get(Cohort, cohort_id)
        return None if row is None else to_record(row)

    async def all(self) -> list[CohortRecord]:
        rows = await self.session.scalars(select(Cohort).order_by(Cohort.name))
        return [to_record(row) for row in rows]

    async def by_group_chat(self, chat_id: int) -> CohortRecord | None:
        row = await self.session.scalar(select(Cohort).where(Cohort.group_chat_id == chat_id))
        return None if row is None else to_record(row)

    async def link_group(self, cohort_id: int, chat_id: int) -> None:
        """A group serves one class: linking it here unlinks it from any other."""
        await self.session.execute(
            update(Cohort)
            .where(Cohort.group_chat_id == chat_id, Cohort.id != cohort_id)
            .values(group_chat_id=None)
        )
        await self.session.execute(
            update(Cohort).where(Cohort.id == cohort_id).values(group_chat_id=chat_id)
        )

    async def update_settings(self, cohort_id: int, **values: Any) -> None:
        """Change columns such as times or the plan; bumps schedule_version for the scheduler."""
        values["schedule_version"] = Cohort.schedule_version + 1
        await self.session.execute(update(Cohort).where(Cohort.id == cohort_id).values(**values))

    async def plan_yaml(self, cohort_id: int) -> str | None:
        return await self.session.scalar(select(Cohort.plan_yaml).where(Cohort.id == cohort_id))
