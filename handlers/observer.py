"""The regiegroep's view: /trends (aggregates over groups of at least five).

Only an active observer gets figures, and only in a private chat: the trends over every cohort
they observe, as text and a line chart. Anyone else gets the polite `observer.only`."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Chat, Update
from telegram.ext import BaseHandler, CommandHandler

from bot import trends
from bot.runtime.context import MentorContext
from handlers.base import answer
from handlers.roles import ObserverScope, Reply, as_observer


@as_observer
async def trends_command(update: Update, context: MentorContext, scope: ObserverScope) -> Reply:
    """/trends: response rates, recurring class gaps and the mean rating per skill and week."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return lambda: answer(update, scope.language, "input.private_only")
    report = await trends.trends(scope.session, scope.cohort_ids, scope.now)
    return lambda: _send_report(chat, report, scope.language)


async def _send_report(chat: Chat, report: trends.TrendsReport, lang: str) -> None:
    """The figures as text, then the chart (drawn in a thread, after the commit)."""
    await chat.send_message(trends.render_trends(report, lang))
    if report.has_chart:
        png = await asyncio.to_thread(trends.trend_chart_png, report, lang)
        await chat.send_photo(png, caption=trends.chart_caption(report, lang))


def observer_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    return [CommandHandler("trends", trends_command)]
