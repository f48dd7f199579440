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

from bot.people import privacy, workplace_data
from bot.people.identity import Identity
from bot.people.privacy import STOP_NO, STOP_PATTERN, STOP_YES
from bot.runtime.commands import publish_role_commands
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer
from handlers.roles import Reply, Scope, as_anyone
from storage.records import MemberRecord
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


# Their own data stays a student's to see and end while linked (e.g. unreachable after a
# block), and a werkbegeleider's too: `_own_member` picks whose it is.


def _own_member(who: Identity) -> MemberRecord | None:
    """The student (see `own_student`) or, else, the werkbegeleider whose data this is."""
    found = who.active(workplace_data.ROLE)
    return privacy.own_student(who.memberships) or (found[-1] if found else None)


async def _not_yours(update: Update, who: Identity) -> None:
    key = "privacy.students_only" if who.is_enrolled else "input.not_enrolled"
    await answer(update, who.language, key)


@as_anyone
async def my_data_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/mijngegevens: send the student (or werkbegeleider) a JSON file with everything kept."""
    student, moment = _own_member(scope.who), scope.now
    if student is None:
        return lambda: _not_yours(update, scope.who)
    if student.role == workplace_data.ROLE:
        data = await workplace_data.werkbegeleider_export(scope.session, student, moment)
        intro = "observe.export_intro"
    else:
        data = await privacy.export_data(scope.session, student, moment)
        intro = "privacy.export_intro"
    content = privacy.export_json(data)
    cohort = await CohortRepo(scope.session).get(student.cohort_id)
    zone = ZoneInfo(cohort.timezone if cohort is not None else "Europe/Amsterdam")
    day = moment.astimezone(zone).date().isoformat()
    caption = t("privacy.export_caption", scope.language, date=day)
    document = InputFile(io.BytesIO(content), filename=privacy.EXPORT_FILENAME)
    size = len(content)
    lang = scope.language
    return lambda: _send_export(update, lang, intro, document, caption, (student.id, size))


async def _send_export(
    update: Update,
    lang: str,
    intro: str,
    document: InputFile,
    caption: str,
    logged: tuple[int, int],
) -> None:
    chat = update.effective_chat
    assert chat is not None
    await answer(update, lang, intro)
    await chat.send_document(document, caption=caption)
    log.info("own data exported member=%s bytes=%s", *logged)


@as_anyone
async def stop_command(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """/stop: ask the student (or werkbegeleider) to confirm leaving, and what happens to
    their data."""
    member = _own_member(scope.who)
    if member is None:
        return lambda: _not_yours(update, scope.who)
    cohort = await CohortRepo(scope.session).get(member.cohort_id)
    name = cohort.name if cohort is not None else ""
    key = "observe.stop_confirm" if member.role == workplace_data.ROLE else "privacy.stop_confirm"
    return lambda: _ask_stop(update, context, scope.language, member.id, name, key)


async def _ask_stop(
    update: Update, context: MentorContext, lang: str, member_id: int, name: str, key: str
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
    await answer(update, lang, key, markup=buttons, cohort=name, fate=fate)


@as_anyone
async def stop_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Ja, stoppen (leave now) or Nee, toch niet (nothing changes) under the /stop question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    member_id = int(query.data[len(STOP_YES) :])
    settings = context.state.config()
    stopped = None
    student = _own_member(scope.who)
    valid = student is not None and student.id == member_id
    if valid and student is not None and query.data.startswith(STOP_YES):
        stop = (
            workplace_data.stop_werkbegeleider
            if student.role == workplace_data.ROLE
            else privacy.stop_student
        )
        stopped = await stop(
            scope.session, student, delete_data=settings.delete_on_stop, now=scope.now
        )
        valid = stopped is not None
    return lambda: _stop_reply(update, context, scope.language, valid, stopped)


async def _stop_reply(
    update: Update,
    context: MentorContext,
    lang: str,
    valid: bool,
    stopped: privacy.Stopped | workplace_data.WerkbegeleiderStopped | None,
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
        "member stopped member=%s cohort=%s deleted=%s",
        stopped.member_id,
        stopped.cohort_id,
        stopped.deleted,
    )
    context.state.wake_sender()
    prefix = "observe" if isinstance(stopped, workplace_data.WerkbegeleiderStopped) else "privacy"
    if stopped.deleted:
        await answer(update, lang, f"{prefix}.stopped_deleted")
    else:
        await answer(update, lang, f"{prefix}.stopped_kept", retention_days=settings.retention_days)
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
