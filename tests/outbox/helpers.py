"""Helpers for the outbox tests; `db` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.db import Database
from storage.records import OutboxDraft, OutboxItem
from storage.repos.outbox import OutboxRepo


def draft(n: int, chat_id: int | None = None, **extra: Any) -> OutboxDraft:
    """A plain text message number `n` to chat `chat_id` (default 1000 + n)."""
    values: dict[str, Any] = {
        "dedupe_key": f"notice:{n}",
        "chat_id": 1000 + n if chat_id is None else chat_id,
        "kind": "notice",
        "payload": {"text": f"message {n}"},
    }
    values.update(extra)
    return OutboxDraft(**values)


async def enqueue(db: Database, drafts: list[OutboxDraft]) -> int:
    async with db.transaction() as s:
        return len(await OutboxRepo(s).enqueue_many(drafts, now()))


async def rows(db: Database) -> list[OutboxItem]:
    async with db.transaction() as s:
        return await OutboxRepo(s).all()


def now() -> datetime:
    return datetime.now(UTC)
