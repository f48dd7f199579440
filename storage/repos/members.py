"""Members of cohorts: students, mentors and observers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, UserSetting
from storage.records import MemberRecord
from storage.repos.core import execute, rows

_TABLE: Table = Member.__table__  # type: ignore[assignment]

# Read on every update, so built once: building a statement (and its cache key) cost about
# as much as running it.
_LANGUAGE = select(UserSetting.language).where(UserSetting.telegram_user_id == bindparam("user"))
_MEMBERSHIPS_AND_LANGUAGE = (
    select(*_TABLE.c, _LANGUAGE.scalar_subquery().label("chosen_language"))
    .where(_TABLE.c.telegram_user_id == bindparam("user"))
    .order_by(_TABLE.c.id)
)


def to_record(row: Any) -> MemberRecord:  # a Member, or a row of its columns
    return MemberRecord(
        id=row.id,
        cohort_id=row.cohort_id,
        role=row.role,
        name=row.name,
        organisation=row.organisation,
        telegram_user_id=row.telegram_user_id,
        chat_id=row.chat_id,
        status=row.status,
        consent_at=row.consent_at,
        consent_version=row.consent_version,
        joined_at=row.joined_at,
    )


class MemberRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_invited(
        self, cohort_id: int, role: str, name: str, organisation: str | None
    ) -> int:
        row = Member(cohort_id=cohort_id, role=role, name=name, organisation=organisation)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, member_id: int) -> MemberRecord | None:
        row = await self.session.get(Member, member_id)
        return None if row is None else to_record(row)

    async def of_user(self, telegram_user_id: int) -> list[MemberRecord]:
        """Every membership of a Telegram user, active or not, oldest first."""
        rows = await self.session.scalars(
            select(Member).where(Member.telegram_user_id == telegram_user_id).order_by(Member.id)
        )
        return [to_record(row) for row in rows]

    async def of_user_with_language(
        self, telegram_user_id: int
    ) -> tuple[list[MemberRecord], str | None]:
        """`of_user` and the user's chosen language (`UserSettingsRepo.language`) in one
        statement, read on every update: columns, not ORM objects (half the cost). A user
        with no membership (rare on the hot path) costs a second read for the language."""
        user = {"user": telegram_user_id}
        found = await rows(self.session, _MEMBERSHIPS_AND_LANGUAGE, user)
        if not found:
            return [], (await execute(self.session, _LANGUAGE, user)).scalar()
        return [to_record(row) for row in found], found[0].chosen_language

    async def in_cohort(
        self, cohort_id: int, role: str | None = None, statuses: Sequence[str] | None = None
    ) -> list[MemberRecord]:
        query = select(Member).where(Member.cohort_id == cohort_id)
        if role is not None:
            query = query.where(Member.role == role)
        if statuses is not None:
            query = query.where(Member.status.in_(statuses))
        rows = await self.session.scalars(query.order_by(Member.name, Member.id))
        return [to_record(row) for row in rows]

    async def active_students(self, cohort_ids: Sequence[int]) -> list[MemberRecord]:
        """The active students of many cohorts in one query (by cohort, then as `in_cohort`
        orders them): opening the rounds of many cohorts at once."""
        if not cohort_ids:
            return []
        query = select(Member).where(
            Member.cohort_id.in_(list(cohort_ids)),
            Member.role == "student",
            Member.status == "active",
        )
        rows = await self.session.scalars(query.order_by(Member.cohort_id, Member.name, Member.id))
        return [to_record(row) for row in rows]

    async def names_in_cohort(self, cohort_id: int, role: str) -> set[str]:
        rows = await self.session.scalars(
            select(Member.name).where(Member.cohort_id == cohort_id, Member.role == role)
        )
        return {name.casefold() for name in rows}

    async def activate(
        self,
        member_id: int,
        *,
        telegram_user_id: int,
        chat_id: int,
        name: str | None,
        consent_version: str | None,
        now: datetime,
    ) -> None:
        values: dict[str, object] = {
            "telegram_user_id": telegram_user_id,
            "chat_id": chat_id,
            "status": "active",
            "joined_at": now,
        }
        if name:
            values["name"] = name
        if consent_version is not None:
            values.update(consent_at=now, consent_version=consent_version)
        await self.session.execute(update(Member).where(Member.id == member_id).values(**values))

    async def add_active(
        self,
        cohort_id: int,
        role: str,
        *,
        name: str,
        telegram_user_id: int,
        chat_id: int,
        consent_version: str | None,
        now: datetime,
    ) -> int:
        row = Member(
            cohort_id=cohort_id,
            role=role,
            name=name,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            status="active",
            joined_at=now,
            consent_at=now if consent_version else None,
            consent_version=consent_version,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def active_counts(self) -> dict[tuple[int, str], int]:
        """Active members per (cohort id, role)."""
        rows = await self.session.execute(
            select(Member.cohort_id, Member.role, func.count())
            .where(Member.status == "active")
            .group_by(Member.cohort_id, Member.role)
        )
        return {(cohort_id, role): int(n) for cohort_id, role, n in rows}

    async def set_status(self, member_id: int, status: str) -> None:
        await self.session.execute(
            update(Member).where(Member.id == member_id).values(status=status)
        )
