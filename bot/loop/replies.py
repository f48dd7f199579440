"""A mentor's reply to one of the loop's questions (the line of an agreement, a note, a
compliment): found by the replying user, the chat and the question's message id, so a reply
to anything else, or by someone else, fills nothing in."""

from __future__ import annotations

from datetime import datetime

from bot.loop import agenda, agreements, compliments
from bot.loop.common import Reply, reply
from storage.db import Session
from storage.repos.loop import AgreementRepo, ComplimentRepo, NoteRepo, set_prompt


async def remember_prompt(
    session: Session, prompt: tuple[str, int], chat_id: int, message_id: int
) -> None:
    await set_prompt(session, prompt[0], prompt[1], chat_id, message_id)


async def fill(
    session: Session, user_id: int, chat_id: int, message_id: int, text: str, now: datetime
) -> Reply:
    """Fill in what the replied-to question asked for."""
    draft = await AgreementRepo(session).pending_reply(user_id, chat_id, message_id)
    if draft is not None:
        return await agreements.fill_line(session, draft, text)
    note = await NoteRepo(session).pending_reply(user_id, chat_id, message_id)
    if note is not None:
        return await agenda.fill_note(session, note, text, user_id, now)
    compliment = await ComplimentRepo(session).pending_reply(user_id, chat_id, message_id)
    if compliment is not None:
        return await compliments.fill_line(session, compliment, text, user_id, now)
    return reply("loop.reply_unknown")
