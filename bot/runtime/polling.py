"""Long polling into the inbox: our own getUpdates loop (the Application runs with
`updater(None)`), because python-telegram-bot's Updater confirms an update's offset before it
is handled, and an update confirmed but not yet handled dies with the process.

Here a batch is confirmed (the next getUpdates with `offset` past it) only after the inbox
stored it. When storing fails the offset stays: Telegram hands the batch over again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError

from bot.runtime.inbox import Inbox

log = logging.getLogger(__name__)

BACKOFF_CAP = 10.0  # seconds between tries while Telegram or the database is away
_READ_MARGIN = 5.0  # seconds beyond the long poll (PTB's default read timeout, which
# `Bot.get_updates` adds to the poll's timeout)


class Poller:
    """getUpdates → inbox, until `stop()`."""

    def __init__(self, bot: Bot, inbox: Inbox, *, timeout: int = 10) -> None:
        self.bot = bot
        self.inbox = inbox
        self.timeout = timeout
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Drop a webhook left from webhook mode (getUpdates refuses to run beside one)."""
        await self.bot.delete_webhook()
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        """Stop polling and confirm what was stored (so the next start is not handed it again;
        if this fails, the inbox ignores the repeats)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self.offset is not None:
            with contextlib.suppress(TelegramError, asyncio.CancelledError):
                await self.bot.get_updates(offset=self.offset, timeout=0, limit=1)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                raw = await self._get_updates()
                if raw:
                    updates = [Update.de_json(data, self.bot) for data in raw]
                    await self.inbox.receive(updates, raw)
                    self.offset = updates[-1].update_id + 1
                delay = 0.5
            except InvalidToken:
                log.error("polling stopped: the bot token was refused")
                raise
            except Exception as exc:  # Telegram or the database away: try again, slower
                log.warning("polling: %s; again in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_CAP)

    async def _get_updates(self) -> list[dict[str, Any]]:
        """getUpdates as the JSON that came: `Bot.get_updates` parses it and keeps none, and
        rebuilding it (`Update.to_dict()`) for the inbox cost about as much as the parse.
        `Bot._post` is what `Bot.get_updates` calls (the same request object, rate limiter
        and error handling); the public `do_api_request` warns for a method the Bot has. The
        read timeout is the long poll's plus a margin, as `Bot.get_updates` sets it."""
        data = {"offset": self.offset, "timeout": self.timeout, "allowed_updates": Update.ALL_TYPES}
        result = await self.bot._post("getUpdates", data, read_timeout=self.timeout + _READ_MARGIN)
        return cast("list[dict[str, Any]]", result)
