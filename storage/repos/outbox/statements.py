"""The outbox's hot statements, built once (a sender runs them once per batch): the claim and
the marking of sent rows. Building a SQLAlchemy statement per call cost more CPU than running
it; with parameters bound at execution the text is also the same every time, so asyncpg
prepares it once.

Statuses and the table live here so that `repo` and these statements share them.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BigInteger, Integer, Table, all_, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql

from storage.models import OutboxMessage

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNREACHABLE = "unreachable"
STATUSES = (PENDING, SENDING, SENT, FAILED, UNREACHABLE)
KINDS = ("round", "reminder", "alert", "digest", "notice", "answer", "report", "loop")

TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]
_IDS = postgresql.ARRAY(BigInteger)  # chats, rows and messages as one array parameter
_TIMES = postgresql.ARRAY(TABLE.c.sent_at.type)


@functools.cache
def claim_statement(postgres: bool) -> Any:
    """The claim, built once per dialect (a sender makes one per batch): parameters
    `instance`, `now`, `limit` and `busy` (the chats the caller's pacing does not allow yet)."""
    now = bindparam("now", type_=TABLE.c.claimed_at.type)
    due = (
        select(TABLE.c.id)
        .where(TABLE.c.status == PENDING, TABLE.c.not_before <= now)
        .order_by(TABLE.c.priority.desc(), TABLE.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    claim = update(TABLE).values(
        status=SENDING,
        claimed_by=bindparam("instance"),
        claimed_at=now,
        attempts=TABLE.c.attempts + 1,
    )
    if postgres:
        # One text whatever the chats (prepared once): the busy chats as one array. Inside
        # `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` PostgreSQL may run
        # the subquery more than once and so claim more than n rows; `id = ANY(ARRAY(SELECT
        # …))` is an InitPlan, run once.
        busy = bindparam("busy", type_=_IDS)
        due = due.where(TABLE.c.chat_id != all_(busy)).with_for_update(skip_locked=True)
        claim = claim.where(TABLE.c.id == any_(func.array(due.scalar_subquery())))
    else:
        # One statement under SQLite's single write lock: no other claimer can slip in
        # between choosing the rows and marking them.
        due = due.where(TABLE.c.chat_id.not_in(bindparam("busy", expanding=True)))
        claim = claim.where(TABLE.c.id.in_(due.scalar_subquery()))
    return claim.where(TABLE.c.status == PENDING).returning(*TABLE.c)


@functools.cache
def mark_sent_statement() -> Any:
    """PostgreSQL: one UPDATE joined to the rows as arrays (`ids`, `message_ids`, `sent_at`):
    one execution, not one per row."""
    rows = (
        func.unnest(
            bindparam("ids", type_=_IDS),
            bindparam("message_ids", type_=_IDS),
            bindparam("sent_at", type_=_TIMES),
        )
        .table_valued("id", "message_id", "sent_at")
        .render_derived(name="sent")
    )
    return (
        update(TABLE)
        .where(TABLE.c.id == rows.c.id)
        .values(
            status=SENT,
            sent_at=rows.c.sent_at,
            telegram_message_id=rows.c.message_id,
            last_error=None,
        )
    )
