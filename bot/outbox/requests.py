"""Turning one outbox row into its Telegram request: a text, a photo or a document."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message

from storage.records import OutboxItem

__all__ = ["PayloadError", "keyboard", "send_item"]


class PayloadError(ValueError):
    """An outbox row that cannot become a Telegram request (e.g. a photo without bytes)."""


def keyboard(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from payload buttons: rows of {"text", "data"} (data = callback_data)."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(button["text"], callback_data=button["data"]) for button in row]
        for row in buttons
    ]
    return InlineKeyboardMarkup(rows)


async def send_item(bot: Bot, item: OutboxItem, **options: Any) -> Message:
    """Make the Telegram request for one row: a text, a photo or a document. `options` go
    to the request as they are (`allow_paid_broadcast`, the limiter's `rate_limit_args`)."""
    payload = item.payload
    text = payload.get("text") or ""
    common: dict[str, Any] = {
        "reply_markup": keyboard(payload.get("buttons")),
        "parse_mode": payload.get("parse_mode"),
        **options,
    }
    if payload.get("photo") or payload.get("document"):
        if not item.attachment:
            raise PayloadError("attachment missing")
        if payload.get("photo"):
            return await bot.send_photo(
                item.chat_id, photo=item.attachment, caption=text or None, **common
            )
        filename = str(payload["document"].get("filename") or "document")
        document = InputFile(item.attachment, filename=filename)
        return await bot.send_document(
            item.chat_id, document=document, caption=text or None, **common
        )
    if not text:
        raise PayloadError("text missing")
    return await bot.send_message(item.chat_id, text, **common)
