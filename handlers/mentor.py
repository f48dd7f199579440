"""The mentor team's side in Telegram: alert buttons and the mentor commands.

Every command works only for an active mentor of the cohort it is about: in a private chat
the cohort named as the first argument, else the first of the mentor's cohorts; in a group
only the cohort linked to that group (/koppel). Anyone else gets the polite
`input.mentor_only`."""

from __future__ import annotations

import asyncio
import html
import io

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.gaps import alerts
from bot.gaps.cohort_data import CohortData, local_time, skill_week_means
from bot.loop.timeline import cohort_rows, timeline_lines
from bot.mentor import actions, export, views
from bot.observe import links
from bot.observe.views import workplace_response
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer
from handlers.observe import UNLINK
from handlers.roles import MentorScope, Reply, Scope, as_anyone, as_mentor
from storage.repos.alerts import AlertRepo, AuditRepo


@as_mentor
async def overview_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/overzicht: this week's reflection, who answered and who not, open alerts."""
    data = await scope.cohort_data()
    open_alerts = len(await AlertRepo(scope.session).unresolved(scope.cohort_id))
    workplace = await workplace_response(scope.session, scope.cohort_id)
    text = views.overview_text(data, open_alerts, scope.language, workplace)
    return lambda: _send(update, text)


@as_mentor
async def gaps_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/gaten: the cohort's open alerts, one line each."""
    data = await scope.cohort_data()
    open_alerts = await AlertRepo(scope.session).unresolved(scope.cohort_id)
    text = views.gaps_text(data, open_alerts, scope.language)
    return lambda: _send(update, text)


@as_mentor
async def student_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/student <naam>: one student's ratings per skill and week, and open alerts."""
    lang = scope.language
    wanted = " ".join(scope.args).strip()
    if not wanted:
        return lambda: answer(update, lang, "mentor.student_usage")
    data = await scope.cohort_data()
    match = views.find_student(list(data.students.values()), wanted)
    student = match.found
    if student is None:
        if match.candidates:
            names = ", ".join(s.name for s in match.candidates)
            return lambda: answer(
                update, lang, "mentor.student_ambiguous", name=wanted, names=names
            )
        cohort = data.cohort.name
        return lambda: answer(update, lang, "mentor.student_not_found", name=wanted, cohort=cohort)
    open_alerts = await AlertRepo(scope.session).unresolved(scope.cohort_id)
    events = await timeline_lines(scope.session, data, student, lang)
    target = f"member:{student.id}"
    await AuditRepo(scope.session).add(
        scope.who.user_id, scope.cohort_id, "student_view", target, scope.now
    )
    linked = await links.linked_to(scope.session, student.id)
    body = views.student_history_html(data, student, open_alerts, lang, [w.name for _, w in linked])
    # one Ontkoppel button per werkbegeleider (handlers/observe.py unlink_button)
    buttons = [
        [InlineKeyboardButton(t("observe.unlink_button", lang, name=wb.name[:40]),
                              callback_data=f"{UNLINK}{link.id}")]
        for link, wb in linked
    ]  # fmt: skip
    markup = InlineKeyboardMarkup(buttons) if buttons else None
    while events:  # the loop's timeline (alerts, agreements, notes, compliments), newest kept
        timeline = html.escape("\n".join([t("loop.timeline.header", lang), *events]))
        if len(body) + len(timeline) < 3990:  # whole, within one message: no cut entity
            body += "\n\n" + timeline
            break
        events = events[1:]
    return lambda: _send(update, body[:4000], parse_mode=ParseMode.HTML, markup=markup)


@as_mentor
async def export_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/export: the cohort's answers as a CSV document."""
    data = await scope.cohort_data()
    await AuditRepo(scope.session).add(
        scope.who.user_id, scope.cohort_id, "export", "csv", scope.now
    )
    lang = scope.language  # the file's column names and fixed words: the mentor's language
    content, count = export.cohort_rows(data, lang)  # both views, with a `source` column
    today = local_time(data.cohort, scope.now).date()
    name = export.export_filename(data.cohort.name, today, lang)
    cohort = data.cohort.name
    caption = t("mentor.export_caption", lang, cohort=cohort, count=count)
    document = InputFile(io.BytesIO(content), filename=name)
    loop_rows = await cohort_rows(scope.session, data, lang)
    if not loop_rows:
        return lambda: _send_document(update, document, caption)
    # agreements, meeting notes and compliments (bot.loop): a file of their own
    loop_name = export.export_filename(data.cohort.name, today, lang, "agreements")
    loop_file = InputFile(io.BytesIO(export.loop_csv(loop_rows, lang)), filename=loop_name)
    loop_caption = t("loop.export_caption", lang, count=len(loop_rows))

    async def both() -> None:
        await _send_document(update, document, caption)
        await _send_document(update, loop_file, loop_caption)

    return both


@as_mentor
async def chart_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/grafiek: a PNG heat map of the class's mean rating per skill and week."""
    data = await scope.cohort_data()
    return lambda: _send_chart(update, data, scope.language)


async def _send_chart(update: Update, data: CohortData, lang: str) -> None:
    """Drawn after the commit, in a thread: the drawing holds no transaction open."""
    matrix = skill_week_means(data, lang=lang)
    if not matrix.weeks:
        await answer(update, lang, "mentor.chart_empty")
        return
    from bot.charts import (
        class_chart as charts,  # matplotlib is loaded on first use, not at start-up
    )

    png = await asyncio.to_thread(charts.heatmap_png, matrix, data.cohort.name)
    chat = update.effective_chat
    if chat is not None:
        caption = t("mentor.chart_caption", lang, cohort=data.cohort.name)
        await chat.send_photo(png, caption=caption)
        both = views.both_views_matrices(data)
        if both is not None:  # werkbegeleiders observe: the two views side by side
            from bot.charts.both_views import both_views_png

            png = await asyncio.to_thread(both_views_png, *both, data.cohort.name)
            caption = t("observe.chart_caption", lang, cohort=data.cohort.name)
            await chat.send_photo(png, caption=caption)


@as_mentor
async def expectations_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/verwachting <tekst>: set the expectations text of next week."""
    lang = scope.language
    written_in, text = actions.expectations_language(_rest_of_message(update, scope), lang)
    if not text:
        return lambda: answer(update, lang, "mentor.expectations_usage")
    limit = actions.MAX_EXPECTATIONS
    if len(text) > limit:
        return lambda: answer(
            update, lang, "mentor.expectations_too_long", length=len(text), limit=limit
        )
    cohort = await scope.cohort()
    saved = await actions.set_expectations(scope.session, cohort, text, written_in, scope.now)
    reply = t("mentor.expectations_saved", lang, week=saved.week, cohort=cohort.name,
              language=t(f"mentor.language.{written_in}", lang))  # fmt: skip
    if saved.other_readers:
        reply += "\n" + t(f"mentor.expectations_add_{saved.other_language}", lang,
                          count=saved.other_readers)  # fmt: skip
    return lambda: _send(update, reply)


@as_mentor
async def answer_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/antwoord <nummer> <tekst>: answer a student's question through the bot."""
    lang = scope.language
    args = scope.args
    text = _rest_of_message(update, scope, skip=1)
    if not args or not args[0].lstrip("#").isdigit() or not text:
        return lambda: answer(update, lang, "mentor.answer_usage")
    limit = actions.MAX_ANSWER
    if len(text) > limit:
        return lambda: answer(update, lang, "mentor.answer_too_long", length=len(text), limit=limit)
    question_id = int(args[0].lstrip("#"))
    result = await actions.answer_question(
        scope.session, question_id, text, scope.mentors, scope.now
    )
    if result.status == "not_found":
        return lambda: answer(update, lang, "mentor.answer_not_found", id=question_id)
    if result.status == "already":
        return lambda: answer(update, lang, "mentor.answer_already", name=result.name or "?")
    if result.status == "unreachable":
        return lambda: answer(update, lang, "mentor.answer_unreachable", name=result.name)
    return lambda: answer(update, lang, "mentor.answer_sent", name=result.name)


def _rest_of_message(update: Update, scope: MentorScope, skip: int = 0) -> str:
    """The command's text after the command (and the cohort name and `skip` words), with its
    line breaks kept (context.args would join the lines)."""
    message = update.effective_message
    raw = message.text if message is not None and message.text else ""
    parts = raw.split(maxsplit=1)
    rest = parts[1] if len(parts) > 1 else ""
    words_before = len(context_args(update)) - len(scope.args) + skip
    for _ in range(max(words_before, 0)):
        split = rest.split(maxsplit=1)
        rest = split[1] if len(split) > 1 else ""
    return rest.strip()


def context_args(update: Update) -> list[str]:
    message = update.effective_message
    raw = message.text if message is not None and message.text else ""
    return raw.split()[1:]


@as_anyone
async def alert_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Gezien / Bespreken / Stil 2 weken under an alert: record it and show it on the alert."""
    query = update.callback_query
    assert query is not None and query.data is not None
    who = scope.who
    mentors = {m.cohort_id: m for m in who.active("mentor")}
    pressed = await alerts.press(
        scope.session, query.data, who.user_id, mentors, who.language, scope.now
    )
    return lambda: _show_pressed(query, pressed)


async def _show_pressed(query: CallbackQuery, pressed: alerts.Pressed) -> None:
    """Answer the tap and add the choice under the alert (the buttons stay)."""
    await query.answer(pressed.answer)
    message = query.message
    text = getattr(message, "text", None)
    if pressed.line is None or text is None:
        return
    try:
        await query.edit_message_text(
            f"{text}\n\n{pressed.line}", reply_markup=getattr(message, "reply_markup", None)
        )
    except BadRequest as exc:  # "message is not modified" after a double tap
        if "not modified" not in str(exc).lower():
            raise


async def _send(
    update: Update,
    text: str,
    parse_mode: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text[:4096], parse_mode=parse_mode, reply_markup=markup)


async def _send_document(update: Update, document: InputFile, caption: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(document, caption=caption)


def handlers_for_mentors() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The mentor handlers, for group 0 before the fallbacks (commands, then the buttons)."""
    return [
        CommandHandler("overzicht", overview_command),
        CommandHandler("gaten", gaps_command),
        CommandHandler("student", student_command),
        CommandHandler("export", export_command),
        CommandHandler("grafiek", chart_command),
        CommandHandler("verwachting", expectations_command),
        CommandHandler("antwoord", answer_command),
        CallbackQueryHandler(alert_button, pattern=f"^{alerts.PREFIX}"),
    ]
