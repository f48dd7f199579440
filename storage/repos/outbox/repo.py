"""The outbox: messages waiting to be sent, and the claims that keep them from going out twice.

A row moves pending → sending → sent | failed | unreachable. The sender claims a row (marks it
`sending`, committed) *before* it makes the request, so a second instance never takes it. A row
whose instance died during its request stays `sending`; after `stale_after` it is reclaimed and
its `repeats` counted, because that request may have reached Telegram: the one duplicate that
Telegram's lack of an idempotency key allows.

A claim is one statement (`statements.claim_statement`): on PostgreSQL it selects the due rows
`FOR UPDATE SKIP LOCKED`, so concurrent instances pass over each other's rows, and marks them;
on SQLite it runs under the database's single write lock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, utcnow
from storage.records import OutboxDraft, OutboxItem
from storage.repos import core
from storage.repos.core import execute
from storage.repos.outbox.statements import (
    FAILED,
    KINDS,
    PENDING,
    SENDING,
    SENT,
    STATUSES,
    TABLE,
    UNREACHABLE,
    claim_statement,
    mark_sent_statement,
)

_TABLE = TABLE
_ERROR_LIMIT = 300  # the width of the last_error column
# SQLite, up to this many rows: one statement each (`enqueue_many`)
_ONE_BY_ONE = 4
# the one-row insert those run, built once (`core.rows` keeps its compiled SQL)
_INSERT_ONE = (
    sqlite.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_TABLE.c.dedupe_key)
)


def _item(row: Row[Any] | OutboxMessage) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        dedupe_key=row.dedupe_key,
        chat_id=row.chat_id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        attachment=row.attachment,
        priority=row.priority,
        status=row.status,
        attempts=row.attempts,
        not_before=row.not_before,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        sent_at=row.sent_at,
        telegram_message_id=row.telegram_message_id,
        repeats=row.repeats,
        last_error=row.last_error,
        cohort_id=row.cohort_id,
        round_id=row.round_id,
        member_id=row.member_id,
        created_at=row.created_at,
    )


def new_row(draft: OutboxDraft, now: datetime) -> dict[str, Any]:
    """A new outbox row's values: the draft's, and the defaults of a new row (pending, no
    attempts, due now unless later). The one place for them: `enqueue_many` and, on
    PostgreSQL, `after.queue_after`'s arrays are built from it."""
    # Every key on every row: a multi-row INSERT needs the same columns throughout.
    return {
        "dedupe_key": draft.dedupe_key,
        "chat_id": draft.chat_id,
        "kind": draft.kind,
        "payload": draft.payload,
        "attachment": draft.attachment,
        "priority": draft.priority,
        "status": PENDING,
        "attempts": 0,
        "repeats": 0,
        "not_before": draft.not_before or now,
        "cohort_id": draft.cohort_id,
        "round_id": draft.round_id,
        "member_id": draft.member_id,
        "created_at": now,
    }


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:_ERROR_LIMIT]


class OutboxRepo:
    """Queries on the outbox table, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # -- queuing ---------------------------------------------------------------------------

    async def enqueue(
        self,
        dedupe_key: str,
        chat_id: int,
        kind: str,
        payload: dict[str, Any],
        *,
        priority: int = 0,
        attachment: bytes | None = None,
        not_before: datetime | None = None,
        cohort_id: int | None = None,
        round_id: int | None = None,
        member_id: int | None = None,
    ) -> bool:
        """Queue one message; False when a row with that dedupe_key already exists."""
        draft = OutboxDraft(
            dedupe_key=dedupe_key,
            chat_id=chat_id,
            kind=kind,
            payload=payload,
            priority=priority,
            attachment=attachment,
            not_before=not_before,
            cohort_id=cohort_id,
            round_id=round_id,
            member_id=member_id,
        )
        return bool(await self.enqueue_many([draft], utcnow()))

    async def enqueue_many(self, drafts: Iterable[OutboxDraft], now: datetime) -> list[str]:
        """Queue many messages at once, queued at `now`; returns the dedupe keys that were new
        (a key already present is left alone).

        The one way rows enter the outbox: one multi-row `INSERT … ON CONFLICT (dedupe_key) DO
        NOTHING RETURNING` per chunk (SQLite ≥ 3.35 and PostgreSQL); on SQLite a few rows one
        statement each."""
        rows = [new_row(draft, now) for draft in drafts]
        unknown = {row["kind"] for row in rows} - set(KINDS)
        if unknown:
            raise ValueError(f"unknown outbox kind(s): {sorted(unknown)}")
        if not rows:
            return []
        if self._dialect == "sqlite" and len(rows) <= _ONE_BY_ONE:
            # a few rows (an alert's message to its team): each one statement on the
            # transaction's sqlite3 connection (`core.rows`); SQLAlchemy's batching of many
            # rows cost ~0.5 ms for two, most of an alert check's raise
            return [
                key for row in rows for (key,) in await core.rows(self.session, _INSERT_ONE, row)
            ]
        statement = self._insert().on_conflict_do_nothing(index_elements=["dedupe_key"])
        # Executed with the rows as parameters, SQLAlchemy's "insertmanyvalues" compiles the
        # one-row statement once (cached) and sends it as multi-row INSERTs of up to 1,000
        # rows: 3-7x faster than building a VALUES clause of every row, which compiles anew
        # each time. RETURNING lists only the rows really inserted; rowcount is not reliable
        # for multi-row ON CONFLICT inserts on every driver.
        # on the session's connection (`core.execute`): a Core insert needs none of the ORM's
        # statement handling
        result = await execute(self.session, statement.returning(_TABLE.c.dedupe_key), rows)
        return list(result.scalars().all())

    def _insert(self) -> Any:
        if self._dialect == "postgresql":
            return postgresql.insert(_TABLE)
        return sqlite.insert(_TABLE)

    # -- claiming --------------------------------------------------------------------------

    async def reclaim_stale(self, now: datetime, stale_after: timedelta) -> int:
        """Put rows stuck in `sending` since before `now - stale_after` back to pending.

        Their instance died during the request, which may have reached Telegram, so each
        counts as a repeat. Returns how many rows were reclaimed."""
        result = await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.status == SENDING, _TABLE.c.claimed_at < now - stale_after)
            .values(
                status=PENDING,
                repeats=_TABLE.c.repeats + 1,
                not_before=now,
                claimed_by=None,
                claimed_at=None,
            )
            .returning(_TABLE.c.id)
        )
        return len(result.all())

    async def claim(
        self,
        instance_id: str,
        now: datetime,
        limit: int,
        stale_after: timedelta | None = None,
        *,
        exclude_chats: Collection[int] = (),
    ) -> list[OutboxItem]:
        """Mark up to `limit` due pending rows `sending` for this instance and return them.

        Highest priority first, then oldest. Stale rows are reclaimed first when
        `stale_after` is given. `exclude_chats` skips chats that the caller's pacing does
        not allow yet, so a busy chat does not hold back everyone else. Each claim counts
        one attempt: the request it leads to may reach Telegram whatever happens next."""
        if stale_after is not None:
            await self.reclaim_stale(now, stale_after)
        postgres = self._dialect == "postgresql"
        busy = sorted(exclude_chats) if postgres else list(exclude_chats)
        result = await self.session.execute(
            claim_statement(postgres),
            {"instance": instance_id, "now": now, "limit": limit, "busy": busy},
        )
        items = [_item(row) for row in result.all()]
        # RETURNING keeps no order; the sender relies on priority order.
        return sorted(items, key=lambda item: (-item.priority, item.id))

    # -- outcomes --------------------------------------------------------------------------

    async def mark_sent(self, outbox_id: int, message_id: int | None, now: datetime) -> None:
        """Telegram accepted the message."""
        await self.mark_sent_many([(outbox_id, message_id, now)])

    async def mark_sent_many(self, sent: Sequence[tuple[int, int | None, datetime]]) -> None:
        """Several `mark_sent` at once: (outbox id, Telegram message id, sent at)."""
        if not sent:
            return
        if self._dialect == "postgresql":
            await self._mark_sent_unnested(sent)
            return
        statement = (
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("outbox_id"))
            .values(
                status=SENT,
                sent_at=bindparam("sent_at", type_=_TABLE.c.sent_at.type),
                telegram_message_id=bindparam("message_id"),
                last_error=None,
            )
        )
        params = [{"outbox_id": i, "message_id": m, "sent_at": at} for i, m, at in sent]
        # A Core executemany on the session's connection: the ORM's bulk UPDATE path would
        # want primary keys named like the mapped attributes.
        connection = await self.session.connection()
        await connection.execute(statement, params)

    async def _mark_sent_unnested(self, sent: Sequence[tuple[int, int | None, datetime]]) -> None:
        ids, message_ids, sent_at = (list(column) for column in zip(*sent, strict=True))
        await self.session.execute(
            mark_sent_statement(), {"ids": ids, "message_ids": message_ids, "sent_at": sent_at}
        )

    async def mark_retry(
        self,
        outbox_id: int,
        not_before: datetime,
        error: str | None,
        *,
        possible_repeat: bool = False,
    ) -> None:
        """Back to pending, to be tried again from `not_before` on.

        `possible_repeat`: the failed request may have reached Telegram all the same (a
        timeout after sending), so the retry may deliver it twice; it is counted."""
        await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == outbox_id)
            .values(
                status=PENDING,
                not_before=not_before,
                last_error=_clip(error),
                claimed_by=None,
                claimed_at=None,
                repeats=_TABLE.c.repeats + (1 if possible_repeat else 0),
            )
        )

    async def release(self, outbox_id: int, not_before: datetime) -> None:
        """Give a claimed row back unsent (its request was never made): pending again from
        `not_before`, and the attempt its claim counted is taken back."""
        await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == outbox_id, _TABLE.c.status == SENDING)
            .values(
                status=PENDING,
                not_before=not_before,
                attempts=_TABLE.c.attempts - 1,
                claimed_by=None,
                claimed_at=None,
            )
        )

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        """Given up: the message will not be sent."""
        await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == outbox_id)
            .values(status=FAILED, last_error=_clip(error))
        )

    async def mark_unreachable(self, outbox_id: int, error: str = "forbidden") -> list[int]:
        """The chat cannot be reached (bot blocked, chat gone): this row and every other
        pending row to the same chat become unreachable. Returns the ids of those others."""
        chat_id = await self.session.scalar(
            select(_TABLE.c.chat_id).where(_TABLE.c.id == outbox_id)
        )
        await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == outbox_id)
            .values(status=UNREACHABLE, last_error=_clip(error))
        )
        if chat_id is None:
            return []
        result = await self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.chat_id == chat_id, _TABLE.c.status == PENDING)
            .values(status=UNREACHABLE, last_error=_clip(error))
            .returning(_TABLE.c.id)
        )
        return sorted(result.scalars().all())

    # -- reading ---------------------------------------------------------------------------

    async def get(self, outbox_id: int) -> OutboxItem | None:
        row = (await self.session.execute(select(_TABLE).where(_TABLE.c.id == outbox_id))).first()
        return None if row is None else _item(row)

    async def by_key(self, dedupe_key: str) -> OutboxItem | None:
        statement = select(_TABLE).where(_TABLE.c.dedupe_key == dedupe_key)
        row = (await self.session.execute(statement)).first()
        return None if row is None else _item(row)

    async def existing_keys(self, keys: Collection[str]) -> set[str]:
        """Those of these dedupe keys that are in the outbox already."""
        if not keys:
            return set()
        return set(
            await self.session.scalars(
                select(_TABLE.c.dedupe_key).where(_TABLE.c.dedupe_key.in_(list(keys)))
            )
        )

    async def all(self, statuses: Sequence[str] | None = None) -> list[OutboxItem]:
        """Every row (optionally of some statuses), oldest first: for tests and tools."""
        statement = select(_TABLE).order_by(_TABLE.c.id)
        if statuses is not None:
            statement = statement.where(_TABLE.c.status.in_(statuses))
        return [_item(row) for row in (await self.session.execute(statement)).all()]

    async def depth(self) -> int:
        """How many rows are pending (due now or later)."""
        count = await self.session.scalar(
            select(func.count()).select_from(_TABLE).where(_TABLE.c.status == PENDING)
        )
        return int(count or 0)

    async def oldest_pending_age(self, now: datetime) -> float:
        """Seconds since the oldest pending row was queued; 0 when none is pending."""
        oldest = await self.session.scalar(
            select(func.min(_TABLE.c.created_at)).where(_TABLE.c.status == PENDING)
        )
        return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())

    async def next_due(self) -> datetime | None:
        """When the earliest pending row may go; None when nothing is pending."""
        return await self.session.scalar(
            select(func.min(_TABLE.c.not_before)).where(_TABLE.c.status == PENDING)
        )

    async def stats(self) -> dict[str, int]:
        """Row counts by status, every status present (0 when none)."""
        result = await self.session.execute(
            select(_TABLE.c.status, func.count()).group_by(_TABLE.c.status)
        )
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({status: int(count) for status, count in result.all()})
        return counts

    async def repeats_total(self) -> int:
        """How many requests may have gone out twice (reclaimed after a dead instance)."""
        total = await self.session.scalar(select(func.coalesce(func.sum(_TABLE.c.repeats), 0)))
        return int(total or 0)
