"""A student's own data: /mijngegevens (everything kept, as a JSON file) and /stop (leave,
after a Ja/Nee question). The work is in bot/people/privacy.py."""

from __future__ import annotations

import io
import logging
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.people import privacy
from bot.people.identity import Identity
from bot.people.privacy import STOP_NO, STOP_PATTERN, STOP_YES
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer, identify, now, unit_of_work
from storage.repos import CohortRepo

log = logging.getLogger(__name__)


def privacy_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mijngegevens", my_data_command, filters=private),
        CommandHandler("stop", stop_command, filters=private),
        CallbackQueryHandler(stop_button, pattern=STOP_PATTERN),
    ]


async def _not_a_student(update: Update, who: Identity) -> None:
    key = "privacy.students_only" if who.is_enrolled else "input.not_enrolled"
    await answer(update, who.language, key)


async def my_data_command(update: Update, context: MentorContext) -> None:
    """/mijngegevens: send the student a JSON file with everything kept about them."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = privacy.own_student(who.memberships)
        if student is None:
            await _not_a_student(update, who)
            return
        moment = now()
        content = privacy.export_json(await privacy.export_data(session, student, moment))
        cohort = await CohortRepo(session).get(student.cohort_id)
    chat = update.effective_chat
    assert chat is not None
    await answer(update, who.language, "privacy.export_intro")
    zone = ZoneInfo(cohort.timezone if cohort is not None else "Europe/Amsterdam")
    day = moment.astimezone(zone).date().isoformat()
    caption = t("privacy.export_caption", who.language, date=day)
    document = InputFile(io.BytesIO(content), filename=privacy.EXPORT_FILENAME)
    await chat.send_document(document, caption=caption)
    log.info("own data exported member=%s bytes=%s", student.id, len(content))


async def stop_command(update: Update, context: MentorContext) -> None:
    """/stop: ask the student to confirm leaving, and say what happens to their data."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = privacy.own_student(who.memberships)
        if student is None:
            await _not_a_student(update, who)
            return
        cohort = await CohortRepo(session).get(student.cohort_id)
    settings = context.state.config()
    lang = who.language
    if settings.delete_on_stop:
        fate = t("privacy.fate_delete", lang)
    else:
        fate = t("privacy.fate_keep", lang, retention_days=settings.retention_days)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("privacy.stop_yes_button", lang), callback_data=f"{STOP_YES}{student.id}"
                ),
                InlineKeyboardButton(
                    t("privacy.stop_no_button", lang), callback_data=f"{STOP_NO}{student.id}"
                ),
            ]
        ]
    )
    name = cohort.name if cohort is not None else ""
    await answer(update, lang, "privacy.stop_confirm", markup=buttons, cohort=name, fate=fate)


async def stop_button(update: Update, context: MentorContext) -> None:
    """Ja, stoppen (leave now) or Nee, toch niet (nothing changes) under the /stop question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    member_id = int(query.data[len(STOP_YES) :])
    settings = context.state.config()
    stopped = None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = privacy.own_student(who.memberships)
        valid = student is not None and student.id == member_id
        if valid and student is not None and query.data.startswith(STOP_YES):
            stopped = await privacy.stop_student(
                session, student, delete_data=settings.delete_on_stop, now=now()
            )
            valid = stopped is not None
    lang = who.language
    if not valid:
        await query.answer(t("input.stale_button", lang))
        return
    await query.answer()
    yes = stopped is not None
    await _show_choice(update, t("privacy.chosen_yes" if yes else "privacy.chosen_no", lang))
    if stopped is None:
        await answer(update, lang, "privacy.stop_cancelled")
        return
    log.info(
        "student stopped member=%s cohort=%s deleted=%s cancelled=%s removed=%s",
        stopped.member_id,
        stopped.cohort_id,
        stopped.deleted,
        stopped.cancelled,
        stopped.removed,
    )
    context.state.wake_sender()
    if stopped.deleted:
        await answer(update, lang, "privacy.stopped_deleted")
    else:
        await answer(update, lang, "privacy.stopped_kept", retention_days=settings.retention_days)
    chat = update.effective_chat
    if chat is not None:
        await publish_role_commands(context.bot, chat.id, "stranger", lang)


async def _show_choice(update: Update, chosen: str) -> None:
    """Take the buttons off the question and show what was chosen."""
    query = update.callback_query
    message = query.message if query is not None else None
    text = getattr(message, "text", None)
    if query is None or text is None:
        return
    try:
        await query.edit_message_text(f"{text}\n\n{chosen}", reply_markup=None)
    except BadRequest as exc:  # an edit racing another tap on the same question
        if "not modified" not in str(exc).lower():
            raise
