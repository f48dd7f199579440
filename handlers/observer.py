"""The regiegroep's view: /trends (aggregates over groups of at least five).

Only an active observer gets figures, and only in a private chat: the trends over every cohort
they observe, as text and a line chart. Anyone else gets the polite `observer.only`."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot import trends
from bot.runtime.context import MentorContext
from handlers.base import answer, identify, now, unit_of_work


async def trends_command(update: Update, context: MentorContext) -> None:
    """/trends: response rates, recurring class gaps and the mean rating per skill and week."""
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        lang = who.language
        cohort_ids = [m.cohort_id for m in who.active("observer")]
        if not cohort_ids:
            await answer(update, lang, "observer.only")
            return
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            await answer(update, lang, "input.private_only")
            return
        report = await trends.trends(session, cohort_ids, now())
    await chat.send_message(trends.render_trends(report, lang))
    if report.has_chart:
        png = await asyncio.to_thread(trends.trend_chart_png, report, lang)
        await chat.send_photo(png, caption=trends.chart_caption(report, lang))


def observer_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of this feature, registered in group 0 before the fallbacks."""
    return [CommandHandler("trends", trends_command)]
