"""Mentor-side fixtures: the e2e harness (as in tests/e2e) with the mentor handlers put in
front of group 0, until handlers/__init__.py registers them itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app.application import build_application
from bot.app.embedded import running
from tests.conftest import make_settings
from tests.e2e.conftest import Harness
from tgsandbox import SandboxServer


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[Harness]:
    from handlers.mentor import handlers_for_mentors

    async with SandboxServer() as api:
        settings = make_settings(database_url, api.base_url)
        application = build_application(settings, migrate_on_start=False, scheduler=False)
        mine = handlers_for_mentors()
        callbacks = {x.callback for x in mine}
        group = application.handlers.setdefault(0, [])
        if not any(getattr(x, "callback", None) in callbacks for x in group):
            group[0:0] = mine
        async with running(application):
            yield Harness(api, application, application.bot_data.database())
        assert api.violations == [], "requests Telegram would reject:\n" + "\n".join(api.violations)
