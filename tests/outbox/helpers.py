"""Helpers for the outbox tests; `db` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Bot

from bot.outbox.sender import OutboxSender
from storage.db import Database
from storage.records import OutboxDraft, OutboxItem
from storage.repos.outbox import OutboxRepo
from tgsandbox import SandboxServer, SandboxUser


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


def users(api: SandboxServer, count: int) -> list[SandboxUser]:
    return [api.add_user(f"Student{n}") for n in range(count)]


def sender(db: Database, tg: Bot, **kwargs: Any) -> OutboxSender:
    """A sender with short waits so tests run quickly."""
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("backoff_base", 0.05)
    return OutboxSender(db, tg, **kwargs)


def accepted_sends(api: SandboxServer, method: str = "sendMessage") -> list[int]:
    """Chat ids of accepted sends, in the order the sandbox received them."""
    return [
        int(request.params["chat_id"])
        for request in api.requests
        if request.method == method and request.status == 200
    ]


def requests_to(api: SandboxServer, chat_id: int) -> list[int]:
    """HTTP statuses of the sends to one chat, in order."""
    return [
        request.status
        for request in api.requests
        if request.method.startswith("send") and int(request.params["chat_id"]) == chat_id
    ]
