"""Reaching the mentor team: its linked group chat, else each mentor privately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.outbox.queue import Outgoing, Queued, queue
from storage.db import Session
from storage.repos.team import TeamContacts, TeamRepo

DEFAULT_TEAM_LANGUAGE = "nl"


@dataclass(frozen=True)
class Team:
    """Where the team's messages go and the language they read, read together (one
    statement): a raised alert needs both."""

    chats: list[int]
    language: str


async def read_team(session: Session, cohort_id: int) -> Team:
    """The linked group chat, else the active mentors' own chats; the language is English
    only when every active mentor chose it (/taal en): one Dutch reader keeps the team's
    messages Dutch, as they share one group."""
    return team_of(await TeamRepo(session).contacts(cohort_id))


def team_of(contacts: TeamContacts) -> Team:
    """`read_team` of contacts read already (the gap check reads them with its statement)."""
    mentors = contacts.mentors
    if contacts.group_chat_id is not None:
        chats = [contacts.group_chat_id]
    else:
        chats = [m.chat_id for m in mentors if m.chat_id is not None]
    readers = [m for m in mentors if m.telegram_user_id is not None]
    english = bool(readers) and all(m.language == "en" for m in readers)
    return Team(chats, "en" if english else DEFAULT_TEAM_LANGUAGE)


async def team_chats(session: Session, cohort_id: int) -> list[int]:
    return (await read_team(session, cohort_id)).chats


async def team_language(session: Session, cohort_id: int) -> str:
    return (await read_team(session, cohort_id)).language


async def notify_team(
    session: Session,
    cohort_id: int,
    dedupe_key: str,
    message: Outgoing,
    now: datetime,
    kind: str = "notice",
    priority: int = 5,
    team: Team | None = None,
) -> int:
    """Queue `message` to the team once per chat (the dedupe key makes repeats harmless).
    `team`: the caller's, read already in this transaction (else read now)."""
    team = await read_team(session, cohort_id) if team is None else team
    return await queue(session, to_team(cohort_id, dedupe_key, message, team, kind, priority), now)


def to_team(
    cohort_id: int,
    dedupe_key: str,
    message: Outgoing,
    team: Team,
    kind: str = "notice",
    priority: int = 5,
) -> list[Queued]:
    """`message` to each of the team's chats, keyed `dedupe_key:chat`."""
    return [
        Queued(f"{dedupe_key}:{chat_id}", chat_id, kind, message, cohort_id, priority=priority)
        for chat_id in team.chats
    ]
