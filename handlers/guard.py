"""Guards that run before every other handler (group -2).

1. The per-user flood limit (bot/runtime/flood.py): an update from a user whose bucket is empty is
   stopped here, so nothing else runs and nothing changes. The user is told once a minute in a
   private chat (`input.slow_down`); a button press over the limit is always answered with the
   same text, so the button's spinner stops. In groups a refused update is dropped silently:
   the bot never answers chatter in a team's group with a warning.
2. Edited messages: the bot acts on what a user sends, not on later edits (an edit of an
   answer or a command would otherwise run again or be read as an answer to whatever question
   is open now). An edit in a private chat gets a polite `guard.edited` reply; in a group it is
   ignored. Either way it stops here and changes nothing.

A stopped update stays stopped when its reply fails (a blocked chat, Telegram's 429, the
database): PTB would otherwise hand a handler's exception to the error handler and go on
with the next group, running exactly what the guard refused.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.runtime.context import MentorContext
from bot.runtime.flood import FloodLimiter
from bot.texts import normalise_language, t
from handlers.base import unit_of_work
from storage.repos import UserSettingsRepo

log = logging.getLogger(__name__)


class Guard:
    """The group -2 callback; one per Application, holding that application's buckets."""

    def __init__(self, limiter: FloodLimiter | None = None) -> None:
        # not `limiter or …`: an empty FloodLimiter is falsy (it has __len__)
        self.limiter = limiter if limiter is not None else FloodLimiter()

    async def __call__(self, update: Update, context: MentorContext) -> None:
        user = update.effective_user
        if user is None or not _from_a_user(update):
            return  # status updates (blocked, added to a group) are not counted or stopped
        verdict = self.limiter.hit(user.id)
        if not verdict.allowed:
            try:
                await self._refuse(update, context, user.id, verdict.notify, verdict.language)
            except Exception:  # a failed notice must not let the update through
                log.warning("could not tell user %s to slow down", user.id, exc_info=True)
            raise ApplicationHandlerStop
        if update.edited_message is not None:
            try:
                if _is_private(update):
                    lang = await _language(context, user.id)
                    await _send(update, t("guard.edited", lang))
            except Exception:  # the edit is stopped even when the reply fails
                log.warning("could not answer an edit of user %s", user.id, exc_info=True)
            raise ApplicationHandlerStop

    async def _refuse(
        self,
        update: Update,
        context: MentorContext,
        user_id: int,
        notify: bool,
        language: str | None,
    ) -> None:
        query = update.callback_query
        if not notify and query is None:
            return  # told less than a minute ago: stay quiet
        if language is None:
            language = await _language(context, user_id)
            self.limiter.remember_language(user_id, language)
        text = t("input.slow_down", language)
        if notify:
            log.info("flood limit: user %s is refused for a while", user_id)
        if query is not None:
            await query.answer(text)
        elif notify and _is_private(update):
            await _send(update, text)


def _from_a_user(update: Update) -> bool:
    """Updates a user sends to the bot: messages, edits and button presses."""
    return (
        update.message is not None
        or update.edited_message is not None
        or update.callback_query is not None
    )


def _is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def _language(context: MentorContext, user_id: int) -> str:
    async with unit_of_work(context) as session:
        return normalise_language(await UserSettingsRepo(session).language(user_id))


async def _send(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text)


def guard_handlers(limiter: FloodLimiter | None = None) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers registered in group -2, ahead of everything else: one guard per application
    (so each Application has its own buckets; pass `limiter` to choose the numbers)."""
    return [TypeHandler(Update, Guard(limiter))]
