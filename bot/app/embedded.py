"""Running an Application inside an existing event loop (tests, the demo), doing what
`run_polling` does: initialize, post_init, poll, start — and the reverse on the way out.
Polling goes through the inbox (bot.runtime.polling), as in `mentorbot run`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.runtime.context import AppState
from bot.runtime.polling import Poller


@asynccontextmanager
async def running(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """The bot polls and handles updates inside the block; it is shut down cleanly after."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        state: AppState = application.bot_data
        inbox = state.live().inbox
        assert inbox is not None
        poller = Poller(application.bot, inbox, timeout=1)
        await poller.start()
        await application.start()
        try:
            yield
        finally:
            await poller.stop()
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
