"""Fixtures for the outbox end-to-end tests: a sandbox Bot API server and a Bot pointed at it.

`db` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.outbox.transport import AiohttpRequest
from tgsandbox import SandboxServer


@pytest.fixture
async def api() -> AsyncIterator[SandboxServer]:
    """A running sandbox; fails the test if a request broke the Bot API rules."""
    async with SandboxServer() as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
async def tg(api: SandboxServer) -> AsyncIterator[Bot]:
    """A Bot for the sandbox over the bot's HTTP client (bot.outbox.transport), with a
    connection pool large enough for the sender's requests in flight."""
    bot = Bot(
        api.token,
        base_url=f"{api.base_url}/bot",
        base_file_url=f"{api.base_url}/file/bot",
        request=AiohttpRequest(8),
    )
    async with bot:
        yield bot
