"""Fixtures for tests that talk to the sandbox Bot API server.

The pattern every end-to-end test should follow: the `api` fixture fails the test at teardown
if the bot sent any request that Telegram would reject (`api.violations`). A test that provokes
a violation on purpose asserts it and then calls `api.violations.clear()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from tgsandbox import SandboxServer
from tgsandbox.tests.sandbox_helpers import make_bot


@pytest.fixture
async def api() -> AsyncIterator[SandboxServer]:
    """A running sandbox; asserts at teardown that no request broke the Bot API rules."""
    async with SandboxServer() as server:
        yield server
        assert server.violations == [], "requests Telegram would reject:\n" + "\n".join(
            server.violations
        )


@pytest.fixture
async def bot(api: SandboxServer) -> AsyncIterator[Bot]:
    """An initialised Bot (getMe done) for the default token."""
    async with make_bot(api) as tg_bot:
        yield tg_bot
