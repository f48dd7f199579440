"""Join codes: unguessable, deep-link safe, optionally personal, single use and expiring."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsentRefusal, Invite
from storage.records import InviteRecord

# 16 random bytes = 128 bits, as 22 characters of A-Za-z0-9_- (safe in a t.me deep link).
CODE_BYTES = 16


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def to_record(row: Invite) -> InviteRecord:
    return InviteRecord(
        code=row.code,
        cohort_id=row.cohort_id,
        role=row.role,
        member_id=row.member_id,
        single_use=row.single_use,
        expires_at=row.expires_at,
        used_at=row.used_at,
        student_id=row.student_id,
    )


class InviteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        cohort_id: int,
        role: str,
        *,
        member_id: int | None = None,
        single_use: bool = True,
        expires_at: datetime | None = None,
        student_id: int | None = None,
    ) -> InviteRecord:
        row = Invite(
            student_id=student_id,
            code=new_code(),
            cohort_id=cohort_id,
            role=role,
            member_id=member_id,
            single_use=single_use,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return to_record(row)

    async def get(self, code: str) -> InviteRecord | None:
        row = await self.session.get(Invite, code)
        return None if row is None else to_record(row)

    async def mark_used(self, code: str, now: datetime) -> bool:
        """Mark a single-use code used; False when another request used it first."""
        result = await self.session.execute(
            update(Invite).where(Invite.code == code, Invite.used_at.is_(None)).values(used_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def record_refusal(self, cohort_id: int, role: str, now: datetime) -> None:
        """Keep only that a refusal happened: the cohort and role, no person."""
        self.session.add(ConsentRefusal(cohort_id=cohort_id, role=role, refused_at=now))
        await self.session.flush()

    async def for_member(self, member_id: int) -> InviteRecord | None:
        row = await self.session.scalar(select(Invite).where(Invite.member_id == member_id))
        return None if row is None else to_record(row)

    async def set_expiry(self, code: str, expires_at: datetime) -> InviteRecord:
        await self.session.execute(
            update(Invite).where(Invite.code == code).values(expires_at=expires_at)
        )
        found = await self.get(code)
        assert found is not None
        return found
