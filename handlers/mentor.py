"""The mentor team's side in Telegram: alert buttons and the mentor commands.

Every command works only for an active mentor of the cohort it is about: in a private chat
the cohort named as the first argument, else the first of the mentor's cohorts; in a group
only the cohort linked to that group (/koppel). Anyone else gets the polite
`input.mentor_only`."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.gaps import alerts
from bot.gaps.cohort_data import CohortData, load_cohort_data, local_time, skill_week_means
from bot.mentor import actions, export, views
from bot.people.identity import Identity
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer, identify, now, unit_of_work
from storage.records import MemberRecord
from storage.repos import CohortRepo
from storage.repos.alerts import AlertRepo, AuditRepo


@dataclass(frozen=True)
class Scope:
    """Who asks, about which cohort, with the arguments left after the cohort name."""

    who: Identity
    mentors: dict[int, MemberRecord]  # cohort id -> the user's active mentor membership
    cohort_id: int | None
    args: list[str]


async def _scope(session: object, update: Update, context: MentorContext) -> Scope:
    who = await identify(session, update, context)  # type: ignore[arg-type]
    mentors = {m.cohort_id: m for m in who.active("mentor")}
    repo = CohortRepo(session)  # type: ignore[arg-type]
    args = list(context.args or [])
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        # In a group only its linked cohort, and only for that cohort's mentors: a mentor of
        # another class must not post their class's data in someone else's group.
        linked = await repo.by_group_chat(chat.id)
        if linked is None or linked.id not in mentors:
            return Scope(who, mentors, None, args)
        choice, rest = actions.mentor_cohort_choice([(linked.id, linked.name)], args)
        return Scope(who, mentors, choice, rest)
    named = [(c.id, c.name) for cid in mentors if (c := await repo.get(cid)) is not None]
    choice, rest = actions.mentor_cohort_choice(named, args)
    return Scope(who, mentors, choice, rest)


async def _refuse(update: Update, scope: Scope) -> None:
    await answer(update, scope.who.language, "input.mentor_only")


async def _data(session: object, scope: Scope) -> CohortData:
    assert scope.cohort_id is not None
    data = await load_cohort_data(session, scope.cohort_id)  # type: ignore[arg-type]
    assert data is not None
    return data


async def overview_command(update: Update, context: MentorContext) -> None:
    """/overzicht: this week's reflection, who answered and who not, open alerts."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        data = await _data(session, scope)
        open_alerts = len(await AlertRepo(session).unresolved(scope.cohort_id))
    text = views.overview_text(data, open_alerts, scope.who.language)
    await _send(update, text)


async def gaps_command(update: Update, context: MentorContext) -> None:
    """/gaten: the cohort's open alerts, one line each."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        data = await _data(session, scope)
        open_alerts = await AlertRepo(session).unresolved(scope.cohort_id)
    await _send(update, views.gaps_text(data, open_alerts, scope.who.language))


async def student_command(update: Update, context: MentorContext) -> None:
    """/student <naam>: one student's ratings per skill and week, and open alerts."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        wanted = " ".join(scope.args).strip()
        if not wanted:
            await answer(update, lang, "mentor.student_usage")
            return
        data = await _data(session, scope)
        match = views.find_student(list(data.students.values()), wanted)
        student = match.found
        if student is None:
            if match.candidates:
                names = ", ".join(s.name for s in match.candidates)
                await answer(update, lang, "mentor.student_ambiguous", name=wanted, names=names)
            else:
                await answer(
                    update, lang, "mentor.student_not_found", name=wanted, cohort=data.cohort.name
                )
            return
        open_alerts = await AlertRepo(session).unresolved(scope.cohort_id)
        await AuditRepo(session).add(
            scope.who.user_id, scope.cohort_id, "student_view", f"member:{student.id}", now()
        )
    body = views.student_history_html(data, student, open_alerts, lang)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(body[:4000], parse_mode=ParseMode.HTML)


async def export_command(update: Update, context: MentorContext) -> None:
    """/export: the cohort's answers as a CSV document."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        data = await _data(session, scope)
        await AuditRepo(session).add(scope.who.user_id, scope.cohort_id, "export", "csv", now())
    rows = [a for a in data.answers if not a.question_key.startswith("__")]
    content = export.answers_csv(rows)
    today = local_time(data.cohort, now()).date()
    name = export.export_filename(data.cohort.name, today)
    caption = t(
        "mentor.export_caption", scope.who.language, cohort=data.cohort.name, count=len(rows)
    )
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(InputFile(io.BytesIO(content), filename=name), caption=caption)


async def chart_command(update: Update, context: MentorContext) -> None:
    """/grafiek: a PNG heat map of the class's mean rating per skill and week."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        data = await _data(session, scope)
    lang = scope.who.language
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


async def expectations_command(update: Update, context: MentorContext) -> None:
    """/verwachting <tekst>: set the expectations text of next week."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        text = _rest_of_message(update, scope)
        if not text:
            await answer(update, lang, "mentor.expectations_usage")
            return
        limit = actions.MAX_EXPECTATIONS
        if len(text) > limit:
            await answer(
                update, lang, "mentor.expectations_too_long", length=len(text), limit=limit
            )
            return
        cohort = await CohortRepo(session).get(scope.cohort_id)
        assert cohort is not None
        week = await actions.set_expectations(session, cohort, text, now())
    await answer(update, lang, "mentor.expectations_saved", week=week, cohort=cohort.name)


async def answer_command(update: Update, context: MentorContext) -> None:
    """/antwoord <nummer> <tekst>: answer a student's question through the bot."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await _refuse(update, scope)
            return
        args = scope.args
        text = _rest_of_message(update, scope, skip=1)
        if not args or not args[0].lstrip("#").isdigit() or not text:
            await answer(update, lang, "mentor.answer_usage")
            return
        if len(text) > actions.MAX_ANSWER:
            limit = actions.MAX_ANSWER
            await answer(update, lang, "mentor.answer_too_long", length=len(text), limit=limit)
            return
        question_id = int(args[0].lstrip("#"))
        result = await actions.answer_question(session, question_id, text, scope.mentors, now())
    if result.status == "not_found":
        await answer(update, lang, "mentor.answer_not_found", id=question_id)
    elif result.status == "already":
        await answer(update, lang, "mentor.answer_already", name=result.name or "?")
    elif result.status == "unreachable":
        await answer(update, lang, "mentor.answer_unreachable", name=result.name)
    else:
        await answer(update, lang, "mentor.answer_sent", name=result.name)


def _rest_of_message(update: Update, scope: Scope, skip: int = 0) -> str:
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


async def alert_button(update: Update, context: MentorContext) -> None:
    """Gezien / Bespreken / Stil 2 weken under an alert: record it and show it on the alert."""
    query = update.callback_query
    assert query is not None and query.data is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        mentors = {m.cohort_id: m for m in who.active("mentor")}
        pressed = await alerts.press(session, query.data, who.user_id, mentors, who.language, now())
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


async def _send(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text[:4096])


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
