"""A bare python-telegram-bot Application for the memory baseline: long polling, one handler
that answers callbacks (answer, next message, edit) and replies to text.
Usage: python bench/_bare_bot.py TOKEN BASE_URL"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer("ok")
    await update.effective_chat.send_message("Volgende vraag")
    # mentorbot's tap makes three requests: answer, next question, edit the tapped question
    await update.callback_query.edit_message_text("Vraag (beantwoord)")


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message("Opgeslagen")


def main() -> None:
    token, base = sys.argv[1], sys.argv[2]
    app = Application.builder().token(token).base_url(f"{base}/bot").build()
    app.add_handler(CallbackQueryHandler(tapped))
    app.add_handler(MessageHandler(filters.TEXT, typed))
    app.run_polling(poll_interval=0.0, timeout=1)


if __name__ == "__main__":
    main()
