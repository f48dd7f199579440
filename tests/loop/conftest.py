"""The loop's fixtures: the real bot on the sandbox server with a clock the test moves
(no scheduler running by itself: the test pushes the rounds it needs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.app.application import build_application
from bot.app.embedded import running
from bot.schedule.clock import FakeClock
from tests.conftest import make_settings
from tests.e2e.conftest import Harness
from tgsandbox import SandboxServer

MONDAY_WEEK_3 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)  # the cohort starts 2026-09-01


@dataclass
class LoopHarness(Harness):
    clock: FakeClock


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[LoopHarness]:
    clock = FakeClock(MONDAY_WEEK_3)
    async with SandboxServer() as api:
        settings = make_settings(database_url, api.base_url)
        application = build_application(
            settings, migrate_on_start=False, scheduler=False, clock=clock
        )
        async with running(application):
            yield LoopHarness(api, application, application.bot_data.database(), clock)
        assert api.violations == [], "requests Telegram would reject:\n" + "\n".join(api.violations)
