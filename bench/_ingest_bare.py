"""The bare python-telegram-bot application of `bench.ingest`: the same Bot API requests per
update as mentorbot's check-in, with no database and no product code.

With `content="mirror"` (the default since 7 Dec 2026) it also sends the same messages: the
texts and keyboards mentorbot sent in its turn just before (`Script.capture`), so both apps
pay the library's per-byte costs alike (JSON, `de_json` of every button, the sandbox's
validation). The earlier baseline (`content="short"`) sent a 14-character text with five
one-character buttons where mentorbot sends a question of 100-300 characters with up to six
buttons carrying 25-character callback data: "what the product adds" then included the size
of its messages, which the library's own cost grows with (a small part, as it turned out:
docs/benchmarks.md §2 ingest10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

CHOSEN = "\n\n➡️ "  # as mentorbot marks the chosen answer in the edited question
SHORT = ("Volgende vraag", [[(str(i), f"r:{i}") for i in range(1, 6)]])


def _rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    return [
        [(b["text"], b.get("callback_data", "")) for b in row]
        for row in (markup or {}).get("inline_keyboard", [])
    ]


@dataclass
class Script:
    """The messages the bare app sends, in order: question i is `steps[i]`; the last is the
    closing message. Callback data keeps its length, and says which step it belongs to."""

    steps: list[tuple[str, list[list[tuple[str, str]]]]] = field(default_factory=list)

    @classmethod
    def short(cls, answers: int) -> Script:
        return cls([SHORT] * (answers + 1))

    @classmethod
    def capture(cls, messages: list[Any], is_step: Any) -> Script:
        """mentorbot's questions and closing message to one student, as first sent."""
        steps = []
        for message in messages:
            first = message.history[0] if message.history else message.snapshot()
            if is_step(first.get("text") or ""):
                steps.append((first["text"], _rows(first.get("reply_markup"))))
        return cls(steps)

    def describe(self) -> str:
        texts = [len(text) for text, _ in self.steps]
        buttons = [sum(len(row) for row in rows) for _, rows in self.steps]
        return (f"{len(self.steps)} messages, {sum(texts) / len(texts):.0f} characters and "
                f"{sum(buttons) / len(buttons):.1f} buttons each on average")  # fmt: skip

    def markup(self, step: int) -> InlineKeyboardMarkup | None:
        rows = [
            [InlineKeyboardButton(label, callback_data=_data(step, j, len(data)))
             for j, (label, data) in enumerate(row)]
            for row in self.steps[step][1]
        ]  # fmt: skip
        return InlineKeyboardMarkup(rows) if rows else None


def _data(step: int, button: int, length: int) -> str:
    data = f"{step}:{button}:"
    return data + "x" * max(0, length - len(data))


def bare_application(api: Any, token: str, concurrency: int, transport: str) -> Any:
    """The app (polling the sandbox with `token`) and its script, to be set before a turn."""
    script = Script()
    asked: dict[int, int] = {}  # chat -> the step last sent

    async def send_step(chat: Any, step: int) -> None:
        asked[chat.id] = step
        step = min(step, len(script.steps) - 1)
        await chat.send_message(script.steps[step][0], reply_markup=script.markup(step))

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None and query.data is not None and chat is not None
        step = int(query.data.split(":", 1)[0])
        await query.answer("Opgeslagen")
        await send_step(chat, step + 1)
        # the same three requests as mentorbot's tap: answer, next question, edit the tapped one
        message = query.message
        text = getattr(message, "text", None) or ""
        markup = getattr(message, "reply_markup", None)
        rows = markup.inline_keyboard if markup is not None else ()
        label = next((b.text for row in rows for b in row if b.callback_data == query.data), "")
        await query.edit_message_text(f"{text}{CHOSEN}{label}", reply_markup=markup)

    async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        await send_step(chat, asked.get(chat.id, 0) + 1)

    builder = Application.builder()
    if transport == "aiohttp":
        # the same HTTP client as mentorbot's requests: the ratio is then what the product
        # adds to the library alone, without the client mentorbot chose over PTB's default
        from bot.outbox.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(256))
    app = (
        builder.token(token)
        .base_url(f"{api.base_url}/bot")
        .base_file_url(f"{api.base_url}/file/bot")
        # as many updates at once as mentorbot's inbox worker takes: PTB's default of one at a
        # time would make the baseline wait on every round trip, and flatter mentorbot the
        # more, the busier the machine
        .concurrent_updates(concurrency)
        .build()
    )
    app.add_handler(CallbackQueryHandler(tapped))
    app.add_handler(MessageHandler(filters.TEXT, typed))

    async def first(user: Any) -> None:
        """Question 1 to `user`, straight from the bot (mentorbot's comes through its outbox)."""
        asked[user.id] = 0
        await app.bot.send_message(user.id, script.steps[0][0], reply_markup=script.markup(0))

    return app, script, first
