"""The inbox: Telegram updates stored before Telegram is told they arrived.

A row moves pending → handling → handled | parked. Storing is idempotent on `update_id`, so an
update delivered twice (a webhook retried, a poll repeated after a crash) is stored once and
handled once. An instance claims a row (`handling`, committed, `claimed_by` = its lease)
before it handles it; rows of an instance whose lease lapsed go back to pending (see
`storage.repos.leases`).

Order per user: a row is claimable only when it is its user's oldest unfinished update and no
update of that user is being handled anywhere, so one user's updates never run side by side,
not even on two instances. On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`
(two instances pass over each other's rows); on SQLite claiming is one UPDATE under the
database's single write lock.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Table, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate
from storage.records import InboxRecord
from storage.repos.core import execute, rows

PENDING = "pending"
HANDLING = "handling"
HANDLED = "handled"
PARKED = "parked"
STATUSES = (PENDING, HANDLING, HANDLED, PARKED)

_TABLE: Table = InboxUpdate.__table__  # type: ignore[assignment]
_ERROR_LIMIT = 300


def _claimable() -> Any:
    """The ids of due rows, at most one per user: its oldest unfinished update, and only
    while none of that user's is being handled (bound: `now`, `limit`)."""
    other = _TABLE.alias("other")
    busy = exists().where(other.c.user_key == _TABLE.c.user_key, other.c.status == HANDLING)
    earlier = exists().where(
        other.c.user_key == _TABLE.c.user_key,
        other.c.status == PENDING,
        other.c.update_id < _TABLE.c.update_id,
    )
    return (
        select(_TABLE.c.id)
        .where(_TABLE.c.status == PENDING, _TABLE.c.not_before <= bindparam("now"), ~busy, ~earlier)
        .order_by(_TABLE.c.update_id)
        .limit(bindparam("limit", type_=Integer))
    )


@functools.cache
def _store(dialect: str) -> Any:
    insert = postgresql.insert(_TABLE) if dialect == "postgresql" else sqlite.insert(_TABLE)
    return insert.on_conflict_do_nothing(index_elements=["update_id"]).returning(_TABLE.c.id)


# A claim and a record of handled updates run per update or two, so their statements are
# built once (bound: `instance`, `now`, and `ids` or `limit`).
_CLAIM = (
    update(_TABLE)
    .values(
        status=HANDLING,
        claimed_by=bindparam("instance"),
        claimed_at=bindparam("now"),
        attempts=_TABLE.c.attempts + 1,
    )
    .where(_TABLE.c.status == PENDING)
    .returning(*_TABLE.c)
)
_CLAIM_DUE = _CLAIM.where(_TABLE.c.id.in_(_claimable().scalar_subquery()))  # SQLite
_CLAIMABLE_LOCKED = _claimable().with_for_update(of=_TABLE, skip_locked=True)  # PostgreSQL
_CLAIM_IDS = _CLAIM.where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
_MARK_HANDLED = (
    update(_TABLE)
    .where(
        _TABLE.c.id.in_(bindparam("ids", expanding=True)),
        _TABLE.c.status == HANDLING,
        _TABLE.c.claimed_by == bindparam("instance"),
    )
    .values(status=HANDLED, handled_at=bindparam("now"), last_error=None)
    .returning(_TABLE.c.id)
)


@dataclass(frozen=True)
class Incoming:
    """An update to store: its id, the user (or chat) it belongs to, and its JSON."""

    update_id: int
    user_key: int
    payload: dict[str, Any]


def _record(row: Any) -> InboxRecord:  # a Row, or a row of `rows`
    return InboxRecord(
        id=row.id,
        update_id=row.update_id,
        user_key=row.user_key,
        payload=dict(row.payload or {}),
        status=row.status,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        last_error=row.last_error,
        received_at=row.received_at,
        handled_at=row.handled_at,
    )


def _clip(error: str) -> str:
    return error[:_ERROR_LIMIT]


class InboxRepo:
    """Queries on the inbox table, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def store(self, updates: Sequence[Incoming], now: datetime) -> int:
        """Store updates not seen before; returns how many were new."""
        if not updates:
            return 0
        rows = [
            {
                "update_id": u.update_id,
                "user_key": u.user_key,
                "payload": u.payload,
                "status": PENDING,
                "attempts": 0,
                "not_before": now,
                "received_at": now,
            }
            for u in updates
        ]
        # The rows go with the execution: SQLAlchemy sends them as one multi-row INSERT
        # ("insertmanyvalues") from one compiled statement, not a statement compiled per call.
        result = await execute(self.session, _store(self._dialect), rows)
        return len(result.all())

    async def claim(self, instance_id: str, now: datetime, limit: int) -> list[InboxRecord]:
        """Mark up to `limit` due rows `handling` for this instance, at most one per user (its
        oldest unfinished update, and only while none of that user's is being handled)."""
        values: dict[str, Any] = {"instance": instance_id, "now": now, "limit": limit}
        if self._dialect == "postgresql":
            # Lock, then update by id (see storage.repos.outbox.claim for why not in one go).
            ids = list((await execute(self.session, _CLAIMABLE_LOCKED, values)).scalars())
            if not ids:
                return []
            claimed = (await execute(self.session, _CLAIM_IDS, {**values, "ids": ids})).all()
        else:
            claimed = await rows(self.session, _CLAIM_DUE, values)
        return sorted((_record(row) for row in claimed), key=lambda r: r.update_id)

    async def mark_handled(self, row_id: int, instance_id: str, now: datetime) -> bool:
        """The update was handled; False when this instance no longer held it."""
        return await self.mark_handled_many([row_id], instance_id, now) == 1

    async def mark_handled_many(
        self, row_ids: Sequence[int], instance_id: str, now: datetime
    ) -> int:
        """Updates handled by this instance, in one statement (the worker records them in
        its next claim's transaction); returns how many it still held."""
        if not row_ids:
            return 0
        values = {"ids": list(row_ids), "instance": instance_id, "now": now}
        return len(await rows(self.session, _MARK_HANDLED, values))

    async def mark_failed(
        self, row_id: int, instance_id: str, error: str, retry_at: datetime, max_attempts: int
    ) -> str | None:
        """A try failed: pending again from `retry_at`, or parked once `max_attempts` tries
        failed. Returns the new status (None when this instance no longer held the row)."""
        attempts = await self.session.scalar(
            select(_TABLE.c.attempts).where(
                _TABLE.c.id == row_id,
                _TABLE.c.status == HANDLING,
                _TABLE.c.claimed_by == instance_id,
            )
        )
        if attempts is None:
            return None
        status = PARKED if attempts >= max_attempts else PENDING
        await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row_id)
            .values(
                status=status,
                last_error=_clip(error),
                not_before=retry_at,
                claimed_by=None,
                claimed_at=None,
            )
        )
        return status

    async def prune(self, handled_before: datetime, parked_before: datetime) -> int:
        """Delete handled rows handled before `handled_before` and parked rows received
        before `parked_before`; returns how many."""
        result = await self.session.execute(
            delete(_TABLE)
            .where(
                ((_TABLE.c.status == HANDLED) & (_TABLE.c.handled_at < handled_before))
                | ((_TABLE.c.status == PARKED) & (_TABLE.c.received_at < parked_before))
            )
            .returning(_TABLE.c.id)
        )
        return len(result.all())

    async def unpark(self, update_id: int, now: datetime) -> bool:
        """An operator gives a parked update three more tries; False when it is not parked."""
        result = await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.update_id == update_id, _TABLE.c.status == PARKED)
            .values(status=PENDING, attempts=0, not_before=now)
            .returning(_TABLE.c.id)
        )
        return result.first() is not None

    async def get(self, update_id: int) -> InboxRecord | None:
        row = (
            await self.session.execute(select(_TABLE).where(_TABLE.c.update_id == update_id))
        ).first()
        return None if row is None else _record(row)

    async def parked(self) -> list[InboxRecord]:
        """The parked updates, oldest first: for the operator."""
        statement = select(_TABLE).where(_TABLE.c.status == PARKED).order_by(_TABLE.c.update_id)
        return [_record(row) for row in (await self.session.execute(statement)).all()]

    async def counts(self) -> dict[str, int]:
        """Row counts by status, every status present (0 when none)."""
        result = await self.session.execute(
            select(_TABLE.c.status, func.count()).group_by(_TABLE.c.status)
        )
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({status: int(n) for status, n in result.all()})
        return counts

    async def next_due(self) -> datetime | None:
        """When the earliest pending row may be tried; None when nothing is pending."""
        return await self.session.scalar(
            select(func.min(_TABLE.c.not_before)).where(_TABLE.c.status == PENDING)
        )
