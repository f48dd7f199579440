"""Instance leases, and taking back the work of an instance whose lease lapsed.

Each running instance holds one row, renewed every few seconds. Outbox rows (`sending`) and
inbox rows (`handling`) record the instance that claimed them; when that instance's lease has
lapsed (or it is known dead), `reap` puts them back: outbox rows to pending with a repeat
counted (their request may have reached Telegram), inbox rows to pending, or parked when that
was their last try. Rows claimed by something without a lease (a one-off `drain`) are left to
the outbox's `stale_after`, the last resort.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate, InstanceLease, OutboxMessage
from storage.records import LeaseRecord, Reaped

_LEASES: Table = InstanceLease.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_INBOX: Table = InboxUpdate.__table__  # type: ignore[assignment]
DIED = "instance died while handling"


def _record(row: Row[Any]) -> LeaseRecord:
    return LeaseRecord(
        instance_id=row.instance_id,
        host=row.host,
        pid=row.pid,
        started_at=row.started_at,
        renewed_at=row.renewed_at,
        expires_at=row.expires_at,
    )


class LeaseRepo:
    """Queries on the lease table (and the claims that hang on it), in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def acquire(
        self, instance_id: str, host: str, pid: int, now: datetime, ttl: timedelta
    ) -> None:
        """Take a lease for a starting instance (ids are unique per run)."""
        await self.session.execute(
            _LEASES.insert().values(
                instance_id=instance_id,
                host=host[:64],
                pid=pid,
                started_at=now,
                renewed_at=now,
                expires_at=now + ttl,
            )
        )

    async def renew(self, instance_id: str, now: datetime, ttl: timedelta) -> bool:
        """Push the lease's end to `now + ttl`; False when the lease is gone (it lapsed and
        another instance took its work back)."""
        result = await self.session.execute(
            update(_LEASES)
            .where(_LEASES.c.instance_id == instance_id)
            .values(renewed_at=now, expires_at=now + ttl)
            .returning(_LEASES.c.instance_id)
        )
        return result.first() is not None

    async def release(self, instance_id: str) -> None:
        """A clean stop: the instance's work is finished and recorded."""
        await self.session.execute(delete(_LEASES).where(_LEASES.c.instance_id == instance_id))

    async def live(self, now: datetime) -> list[LeaseRecord]:
        """The leases still running at `now`, oldest first: how many instances share the bot."""
        statement = select(_LEASES).where(_LEASES.c.expires_at > now).order_by(_LEASES.c.started_at)
        return [_record(row) for row in (await self.session.execute(statement)).all()]

    async def all(self) -> list[LeaseRecord]:
        """Every lease, live or lapsed, oldest first."""
        statement = select(_LEASES).order_by(_LEASES.c.started_at)
        return [_record(row) for row in (await self.session.execute(statement)).all()]

    async def reap(self, instance_id: str, now: datetime, max_attempts: int) -> Reaped:
        """Drop a dead instance's lease and put back what it had claimed."""
        await self.session.execute(delete(_LEASES).where(_LEASES.c.instance_id == instance_id))
        outbox = await self.session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.status == "sending", _OUTBOX.c.claimed_by == instance_id)
            .values(
                status="pending",
                repeats=_OUTBOX.c.repeats + 1,
                not_before=now,
                claimed_by=None,
                claimed_at=None,
            )
            .returning(_OUTBOX.c.id)
        )
        inbox, parked = await self._put_back(_INBOX.c.claimed_by == instance_id, now, max_attempts)
        return Reaped(outbox=len(outbox.all()), inbox=inbox, parked=parked)

    async def reap_orphans(self, now: datetime, max_attempts: int) -> Reaped:
        """Updates left `handling` by an instance that holds no lease at all (a lease deleted
        by hand, or a bot that stopped without giving its work back). Outbox rows are left
        alone here: a one-off sender without a lease may be sending them right now."""
        holders = select(_LEASES.c.instance_id)
        orphaned = _INBOX.c.claimed_by.is_(None) | _INBOX.c.claimed_by.not_in(holders)
        inbox, parked = await self._put_back(orphaned, now, max_attempts)
        return Reaped(inbox=inbox, parked=parked)

    async def _put_back(self, whose: Any, now: datetime, max_attempts: int) -> tuple[int, int]:
        """Updates being handled (by `whose`) back to pending, or parked on their last try."""
        mine = (_INBOX.c.status == "handling") & whose
        last_try = _INBOX.c.attempts >= max_attempts
        parked = await self.session.execute(
            update(_INBOX)
            .where(mine & last_try)
            .values(status="parked", last_error=DIED, claimed_by=None, claimed_at=None)
            .returning(_INBOX.c.id)
        )
        inbox = await self.session.execute(
            update(_INBOX)
            .where(mine & ~last_try)
            .values(
                status="pending", last_error=DIED, not_before=now, claimed_by=None, claimed_at=None
            )
            .returning(_INBOX.c.id)
        )
        return len(inbox.all()), len(parked.all())
