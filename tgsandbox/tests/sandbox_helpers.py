"""Helpers for sandbox tests: a Bot or Application pointed at a SandboxServer."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta

from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import Application, ApplicationBuilder

from tgsandbox import SandboxServer


def make_bot(api: SandboxServer, token: str | None = None) -> Bot:
    """A python-telegram-bot Bot pointed at the sandbox."""
    return Bot(
        token or api.token,
        base_url=f"{api.base_url}/bot",
        base_file_url=f"{api.base_url}/file/bot",
    )


def build_app(api: SandboxServer) -> Application:  # type: ignore[type-arg]
    """An Application for the default token; add handlers, then `async with polling(app):`."""
    return (
        ApplicationBuilder()
        .token(api.token)
        .base_url(f"{api.base_url}/bot")
        .base_file_url(f"{api.base_url}/file/bot")
        .build()
    )


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run `app` with long polling against the sandbox for the duration of the block."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=timedelta(seconds=10))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after as seconds (PTB 22 warns about its int/timedelta transition)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
