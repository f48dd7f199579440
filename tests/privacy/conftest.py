"""Privacy fixtures: the e2e harness `h` (data kept on /stop, the default) and `hd`, the same
harness with MENTORBOT_DELETE_ON_STOP=true."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app.application import build_application
from bot.app.embedded import running
from tests.conftest import make_settings
from tests.e2e.conftest import Harness, h  # noqa: F401
from tgsandbox import SandboxServer


@pytest.fixture
async def hd(database_url: str) -> AsyncIterator[Harness]:
    """The e2e harness with deleting on /stop switched on."""
    async with SandboxServer() as api:
        settings = make_settings(database_url, api.base_url, MENTORBOT_DELETE_ON_STOP=True)
        application = build_application(settings, migrate_on_start=False)
        async with running(application):
            yield Harness(api, application, application.bot_data.database())
        assert api.violations == [], "requests Telegram would reject:\n" + "\n".join(api.violations)
