"""Small helpers every handler uses: who is talking, and answering in their language."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.people.identity import Identity, load_identity
from bot.runtime.context import MentorContext
from bot.runtime.logs import bind
from bot.texts import t
from storage.db import Session


@asynccontextmanager
async def unit_of_work(context: MentorContext) -> AsyncIterator[Session]:
    """One database transaction for the update being handled."""
    async with context.state.database().transaction() as session:
        yield session


async def identify(session: Session, update: Update, context: MentorContext) -> Identity:
    user = update.effective_user
    assert user is not None, "handlers are registered for updates with a user"
    identity = await load_identity(session, user.id)
    member = identity.student or (identity.memberships[0] if identity.memberships else None)
    if member is not None:
        bind(cohort=member.cohort_id)  # every later log line of this update names the cohort
    return identity


async def answer(
    update: Update,
    lang: str,
    key: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> Message | None:
    """Reply in the chat of the update with text `key` in `lang`."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(t(key, lang, **values), reply_markup=markup)


async def answer_text(update: Update, text: str) -> None:
    """Reply in the chat of the update with a text made already."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


def display_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "?"
    return (user.full_name or user.username or str(user.id))[:200]


def command_argument(context: MentorContext) -> str:
    return " ".join(context.args or []).strip()


async def acknowledge(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press. Telegram refuses an answer to a press that was answered before
    or is too old: an update handled again after a crash (the inbox). That is no failure: the
    press is stored, and what follows (the next question) is still sent."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        if "query is too old" not in exc.message and "query id is invalid" not in exc.message:
            raise
        logging.getLogger(__name__).info("button press no longer answerable (handled again?)")
