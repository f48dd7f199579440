"""Queueing messages into the outbox: rendered text and buttons, one row per recipient."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Session
from storage.records import OutboxDraft
from storage.repos.outbox import OutboxRepo

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback_data)


@dataclass(frozen=True)
class Outgoing:
    """One message as the bot will send it."""

    text: str
    buttons: Buttons = field(default_factory=list)
    photo: bytes | None = None
    document: tuple[str, bytes] | None = None  # (filename, content)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text}
        if self.buttons:
            body["buttons"] = [[{"text": t, "data": d} for t, d in row] for row in self.buttons]
        if self.photo is not None:
            body["photo"] = True
        if self.document is not None:
            body["document"] = {"filename": self.document[0]}
        return body

    def attachment(self) -> bytes | None:
        if self.photo is not None:
            return self.photo
        return self.document[1] if self.document is not None else None


@dataclass(frozen=True)
class Queued:
    dedupe_key: str
    chat_id: int
    kind: str
    message: Outgoing
    cohort_id: int | None = None
    round_id: int | None = None
    member_id: int | None = None
    priority: int = 0


async def queue(session: Session, items: list[Queued], now: datetime) -> int:
    """Render the items and queue them; a dedupe key already present is left alone.
    Returns rows added."""
    return len(await queue_new(session, items, now))


async def queue_new(session: Session, items: list[Queued], now: datetime) -> list[str]:
    """`queue`, returning the dedupe keys of the rows added (rounds opened together count
    their own)."""
    return await OutboxRepo(session).enqueue_many(drafts_of(items), now)


def drafts_of(items: list[Queued]) -> list[OutboxDraft]:
    """The items rendered as the outbox stores them."""
    return [
        OutboxDraft(
            dedupe_key=item.dedupe_key,
            chat_id=item.chat_id,
            kind=item.kind,
            payload=item.message.payload(),
            attachment=item.message.attachment(),
            priority=item.priority,
            cohort_id=item.cohort_id,
            round_id=item.round_id,
            member_id=item.member_id,
        )
        for item in items
    ]
