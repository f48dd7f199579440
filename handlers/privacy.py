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
from bot.people.privacy import STOP_NO, STOP_PATTERN, STOP_YES
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer
from handlers.roles import Reply, Scope, StudentScope, as_anyone, as_student

log = logging.getLogger(__name__)


def privacy_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mijngegevens", my_data_command, filters=private),
        CommandHandler("stop", stop_command, filters=private),
        CallbackQueryHandler(stop_button, pattern=STOP_PATTERN),
    ]


# Their own data stays a student's to see and end while linked (e.g. unreachable after a block).
own_student = as_student(not_student="privacy.students_only", own_data=True)


@own_student
async def my_data_command(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """/mijngegevens: send the student a JSON file with everything kept about them."""
    student, moment = scope.student, scope.now
    data = await privacy.export_data(scope.session, student, moment)
    content = privacy.export_json(data)
    cohort = await scope.cohort()
    zone = ZoneInfo(cohort.timezone if cohort is not None else "Europe/Amsterdam")
    day = moment.astimezone(zone).date().isoformat()
    caption = t("privacy.export_caption", scope.language, date=day)
    document = InputFile(io.BytesIO(content), filename=privacy.EXPORT_FILENAME)
    size = len(content)
    return lambda: _send_export(update, scope.language, document, caption, (student.id, size))


async def _send_export(
    update: Update, lang: str, document: InputFile, caption: str, logged: tuple[int, int]
) -> None:
    chat = update.effective_chat
    assert chat is not None
    await answer(update, lang, "privacy.export_intro")
    await chat.send_document(document, caption=caption)
    log.info("own data exported member=%s bytes=%s", *logged)


@own_student
async def stop_command(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """/stop: ask the student to confirm leaving, and say what happens to their data."""
    cohort = await scope.cohort()
    name = cohort.name if cohort is not None else ""
    return lambda: _ask_stop(update, context, scope.language, scope.student.id, name)


async def _ask_stop(
    update: Update, context: MentorContext, lang: str, member_id: int, name: str
) -> None:
    settings = context.state.config()
    if settings.delete_on_stop:
        fate = t("privacy.fate_delete", lang)
    else:
        fate = t("privacy.fate_keep", lang, retention_days=settings.retention_days)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("privacy.stop_yes_button", lang), callback_data=f"{STOP_YES}{member_id}"
                ),
                InlineKeyboardButton(
                    t("privacy.stop_no_button", lang), callback_data=f"{STOP_NO}{member_id}"
                ),
            ]
        ]
    )
    await answer(update, lang, "privacy.stop_confirm", markup=buttons, cohort=name, fate=fate)


@as_anyone
async def stop_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Ja, stoppen (leave now) or Nee, toch niet (nothing changes) under the /stop question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    member_id = int(query.data[len(STOP_YES) :])
    settings = context.state.config()
    stopped = None
    student = privacy.own_student(scope.who.memberships)
    valid = student is not None and student.id == member_id
    if valid and student is not None and query.data.startswith(STOP_YES):
        stopped = await privacy.stop_student(
            scope.session, student, delete_data=settings.delete_on_stop, now=scope.now
        )
        valid = stopped is not None
    return lambda: _stop_reply(update, context, scope.language, valid, stopped)


async def _stop_reply(
    update: Update,
    context: MentorContext,
    lang: str,
    valid: bool,
    stopped: privacy.Stopped | None,
) -> None:
    """Show the choice under the question and say what happened."""
    query = update.callback_query
    assert query is not None
    settings = context.state.config()
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
