"""Help, language, fallbacks for anything not understood, and the error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.people.identity import Identity
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.runtime.inbox import note_failure
from bot.schedule.next_round import next_round_phrase
from bot.texts import LANGUAGES, t
from handlers.base import answer, command_argument, identify, unit_of_work
from storage.repos import CohortRepo, UserSettingsRepo

log = logging.getLogger(__name__)


async def help_command(update: Update, context: MentorContext) -> None:
    """Explain what this user can do, by role."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        names = await _cohort_names(session, who, "mentor" if who.is_mentor else "observer")
    if who.is_mentor:
        await answer(update, who.language, "help.mentor", cohorts=names)
    elif who.student is not None:
        await answer(update, who.language, "help.student")
    elif who.is_observer:
        await answer(update, who.language, "help.observer", cohorts=names)
    else:
        await answer(update, who.language, "help.stranger")


async def _cohort_names(session: object, who: Identity, role: str) -> str:
    repo = CohortRepo(session)  # type: ignore[arg-type]
    names = [c.name for m in who.active(role) if (c := await repo.get(m.cohort_id)) is not None]
    return ", ".join(names)


async def language_command(update: Update, context: MentorContext) -> None:
    """/taal nl|en: choose the language the bot speaks with this user."""
    choice = command_argument(context).lower()
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        if choice not in LANGUAGES:
            await answer(update, who.language, "language.usage")
            return
        await UserSettingsRepo(session).set_language(who.user_id, choice)
    await answer(update, choice, "language.set")
    if update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
        role = _menu_role(who)
        await publish_role_commands(context.bot, update.effective_chat.id, role, choice)


def _menu_role(who: Identity) -> str:
    if who.is_mentor:
        return "mentor"
    if who.student is not None:
        return "student"
    return "observer" if who.is_observer else "stranger"


async def private_fallback(update: Update, context: MentorContext) -> None:
    """Anything in a private chat that no other handler took: say what is possible."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = who.student
        cohort = await CohortRepo(session).get(student.cohort_id) if student else None
    if not who.is_enrolled:
        await answer(update, who.language, "input.not_enrolled")
        return
    message = update.effective_message
    if message is not None and message.text is None:
        await answer(update, who.language, "input.unsupported_media")
        return
    phrase = next_round_phrase(cohort, who.language) if cohort else ""
    await answer(update, who.language, "input.nothing_open", next_round=phrase)


async def group_gate(update: Update, context: MentorContext) -> None:
    """Runs before everything else in groups: a student writing in a group is asked to use a
    private chat and nothing else handles the message; mentors and others pass through."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
    if who.student is not None and not who.is_mentor:
        await answer(update, who.language, "input.student_in_group")
        raise ApplicationHandlerStop


async def group_fallback(update: Update, context: MentorContext) -> None:
    """Other group messages (team chatter) are not for the bot: stay quiet."""


async def unknown_button(update: Update, context: MentorContext) -> None:
    """A button whose data matches nothing the bot makes: forged or from an old version."""
    assert update.callback_query is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
    await update.callback_query.answer(t("input.stale_button", who.language))


async def error_handler(update: object, context: MentorContext) -> None:
    """Log the failure with the update id (never its content) and tell the user it failed."""
    update_id = update.update_id if isinstance(update, Update) else None
    note_failure(context.error)  # the inbox tries it again, and parks it after three tries
    log.error(
        "handler failed for update %s: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(t("error.generic", "nl"))
        except Exception:  # the chat may be unreachable; the log already has the failure
            log.warning("could not tell update %s that it failed", update_id)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
