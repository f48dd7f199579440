"""Reaching the mentor team: its linked group chat, else each mentor privately."""

from __future__ import annotations

from datetime import datetime

from bot.outbox.queue import Outgoing, Queued, queue
from storage.db import Session
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo

DEFAULT_TEAM_LANGUAGE = "nl"


async def team_chats(session: Session, cohort_id: int) -> list[int]:
    cohort = await CohortRepo(session).get(cohort_id)
    if cohort is not None and cohort.group_chat_id is not None:
        return [cohort.group_chat_id]
    mentors = await MemberRepo(session).in_cohort(cohort_id, "mentor", statuses=("active",))
    return [m.chat_id for m in mentors if m.chat_id is not None]


async def team_language(session: Session, cohort_id: int) -> str:
    """The language the mentor team reads: English only when every active mentor chose it
    (/taal en); one Dutch reader keeps the team's messages Dutch, as they share one group."""
    mentors = await MemberRepo(session).in_cohort(cohort_id, "mentor", statuses=("active",))
    ids = [m.telegram_user_id for m in mentors if m.telegram_user_id is not None]
    if not ids:
        return DEFAULT_TEAM_LANGUAGE
    chosen = await UserSettingsRepo(session).languages(ids)
    return "en" if all(chosen.get(i) == "en" for i in ids) else DEFAULT_TEAM_LANGUAGE


async def notify_team(
    session: Session,
    cohort_id: int,
    dedupe_key: str,
    message: Outgoing,
    now: datetime,
    kind: str = "notice",
    priority: int = 5,
) -> int:
    """Queue `message` to the team once per chat (the dedupe key makes repeats harmless)."""
    items = [
        Queued(f"{dedupe_key}:{chat_id}", chat_id, kind, message, cohort_id, priority=priority)
        for chat_id in await team_chats(session, cohort_id)
    ]
    return await queue(session, items, now)
