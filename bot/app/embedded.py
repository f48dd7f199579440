"""Running an Application inside an existing event loop (tests, the demo), doing what
`run_polling` does: initialize, post_init, poll, start — and the reverse on the way out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application


@asynccontextmanager
async def running(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """The bot polls and handles updates inside the block; it is shut down cleanly after."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
