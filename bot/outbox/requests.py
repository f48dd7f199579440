"""Turning one outbox row into its Telegram request: a text, a photo or a document.

A text — every message of a round — is sent as its raw Bot API parameters through PTB's
`do_api_request` (still through the bot's limiter): PTB's `send_message` builds a keyboard of
objects to serialise and a `Message` (with its `User` and `Chat`) from every answer, of which
the sender keeps only the id — 0.3 ms of CPU a message, as much as the request itself
(docs/benchmarks.md §6, paid4). Photos and documents keep PTB's methods, which handle the
upload.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Bot, InputFile
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from storage.records import OutboxItem

__all__ = ["PayloadError", "keyboard", "send_item"]

# PTB warns when do_api_request names a method it has; skipping that method is the point here.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning
)


class PayloadError(ValueError):
    """An outbox row that cannot become a Telegram request (e.g. a photo without bytes)."""


def keyboard(buttons: list[list[dict[str, str]]] | None) -> dict[str, Any] | None:
    """Inline keyboard from payload buttons: rows of {"text", "data"} (data = callback_data),
    as the Bot API's InlineKeyboardMarkup."""
    if not buttons:
        return None
    rows = [[{"text": b["text"], "callback_data": b["data"]} for b in row] for row in buttons]
    return {"inline_keyboard": rows}


async def send_item(
    bot: Bot, item: OutboxItem, *, paid: bool = False, rate_limit_args: Any = None
) -> int:
    """Make the Telegram request for one row; returns the message id Telegram gave it.

    `paid`: with Telegram's `allow_paid_broadcast`; `rate_limit_args`: the limiter's mark for
    a slot booked already (an `ExtBot` with a limiter only)."""
    payload = item.payload
    text = payload.get("text") or ""
    params: dict[str, Any] = {
        "reply_markup": keyboard(payload.get("buttons")),
        "parse_mode": payload.get("parse_mode"),
    }
    if paid:
        params["allow_paid_broadcast"] = True
    if payload.get("photo") or payload.get("document"):
        return await _send_file(bot, item, text, params, rate_limit_args)
    if not text:
        raise PayloadError("text missing")
    params |= {"chat_id": item.chat_id, "text": text}
    if rate_limit_args is not None and isinstance(bot, ExtBot):
        result = await bot.do_api_request(
            "sendMessage", api_kwargs=params, rate_limit_args=rate_limit_args
        )
    else:
        result = await bot.do_api_request("sendMessage", api_kwargs=params)
    return int(result["message_id"])


async def _send_file(
    bot: Bot, item: OutboxItem, text: str, params: dict[str, Any], rate_limit_args: Any
) -> int:
    if not item.attachment:
        raise PayloadError("attachment missing")
    options = params | {"caption": text or None}
    if rate_limit_args is not None:
        options["rate_limit_args"] = rate_limit_args
    if item.payload.get("photo"):
        message = await bot.send_photo(item.chat_id, photo=item.attachment, **options)
    else:
        filename = str(item.payload["document"].get("filename") or "document")
        document = InputFile(item.attachment, filename=filename)
        message = await bot.send_document(item.chat_id, document=document, **options)
    return message.message_id
