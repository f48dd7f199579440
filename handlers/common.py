"""Help, language, fallbacks for anything not understood, and the error handler."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.observe.views import supervised
from bot.people.identity import Identity
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.runtime.inbox import note_failure
from bot.schedule.next_round import next_round_phrase
from bot.texts import LANGUAGES, t
from handlers.base import answer, command_argument
from handlers.roles import Reply, Scope, as_anyone
from storage.db import Session
from storage.records import CohortRecord
from storage.repos import CohortRepo, UserSettingsRepo

log = logging.getLogger(__name__)


@as_anyone
async def help_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Explain what this user can do, by role."""
    who, lang = scope.who, scope.language
    names = await _cohort_names(scope.session, who, "mentor" if who.is_mentor else "observer")
    if who.is_mentor:
        return lambda: answer(update, lang, "help.mentor", cohorts=names)
    if who.student is not None:
        return lambda: answer(update, lang, "help.student")
    if who.active("werkbegeleider"):
        supervised_names = []
        for member in who.active("werkbegeleider"):
            supervised_names += [s.name for _link, s in await supervised(scope.session, member.id)]
        students = ", ".join(supervised_names)
        return lambda: answer(update, lang, "help.werkbegeleider", students=students or "-")
    if who.is_observer:
        return lambda: answer(update, lang, "help.observer", cohorts=names)
    return lambda: answer(update, lang, "help.stranger")


async def _cohort_names(session: Session, who: Identity, role: str) -> str:
    repo = CohortRepo(session)
    names = [c.name for m in who.active(role) if (c := await repo.get(m.cohort_id)) is not None]
    return ", ".join(names)


@as_anyone
async def language_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/taal nl|en: choose the language the bot speaks with this user."""
    choice = command_argument(context).lower()
    if choice not in LANGUAGES:
        return lambda: answer(update, scope.language, "language.usage")
    await UserSettingsRepo(scope.session).set_language(scope.who.user_id, choice)
    return lambda: _language_set(update, context, _menu_role(scope.who), choice)


async def _language_set(update: Update, context: MentorContext, role: str, choice: str) -> None:
    """Confirm in the new language, and show the command menu in it too."""
    await answer(update, choice, "language.set")
    if update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
        await publish_role_commands(context.bot, update.effective_chat.id, role, choice)


def _menu_role(who: Identity) -> str:
    if who.is_mentor:
        return "mentor"
    if who.student is not None:
        return "student"
    if who.active("werkbegeleider"):
        return "werkbegeleider"
    return "observer" if who.is_observer else "stranger"


@as_anyone
async def private_fallback(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Anything in a private chat that no other handler took: say what is possible."""
    student = scope.who.student
    cohort = await CohortRepo(scope.session).get(student.cohort_id) if student else None
    return lambda: _say_what_is_possible(update, scope.who, cohort, scope.now)


async def _say_what_is_possible(
    update: Update, who: Identity, cohort: CohortRecord | None, now: datetime
) -> None:
    if not who.is_enrolled:
        await answer(update, who.language, "input.not_enrolled")
        return
    message = update.effective_message
    if message is not None and message.text is None:
        await answer(update, who.language, "input.unsupported_media")
        return
    phrase = next_round_phrase(cohort, who.language, now) if cohort else ""
    await answer(update, who.language, "input.nothing_open", next_round=phrase)


@as_anyone
async def group_gate(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Runs before everything else in groups: a student writing in a group is asked to use a
    private chat and nothing else handles the message; mentors and others pass through."""
    who = scope.who
    if who.student is not None and not who.is_mentor:
        return lambda: _stop_student_in_group(update, who.language)
    return None


async def _stop_student_in_group(update: Update, lang: str) -> None:
    await answer(update, lang, "input.student_in_group")
    raise ApplicationHandlerStop


async def group_fallback(update: Update, context: MentorContext) -> None:
    """Other group messages (team chatter) are not for the bot: stay quiet."""


@as_anyone
async def unknown_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A button whose data matches nothing the bot makes: forged or from an old version."""
    query = update.callback_query
    assert query is not None
    return lambda: query.answer(t("input.stale_button", scope.language))


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
