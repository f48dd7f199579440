"""End-to-end fixtures: the real Application, polling the sandbox Bot API server, on a real
database. Nothing of the project is mocked; the sandbox checks every request against the
Bot API 10.1 spec and the test fails on any violation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from bot.app.application import build_application
from bot.app.embedded import running
from bot.runtime.context import AppState, MentorApp
from storage.db import Database
from storage.repos import CohortRepo, InviteRepo, MemberRepo
from storage.repos.inbox import InboxRepo
from tests.conftest import make_settings
from tests.process.conftest import eventually
from tgsandbox import SandboxChat, SandboxServer, SandboxUser, SentMessage


@dataclass
class Harness:
    api: SandboxServer
    app: MentorApp
    db: Database

    @property
    def state(self) -> AppState:
        return self.app.bot_data

    async def cohort(self, name: str = "PW3A", start: date = date(2026, 9, 1)) -> int:
        async with self.db.transaction() as s:
            return (await CohortRepo(s).create(name, start, "Europe/Amsterdam")).id

    async def code(self, cohort_id: int, role: str = "student", **kw: object) -> str:
        async with self.db.transaction() as s:
            return (await InviteRepo(s).create(cohort_id, role, **kw)).code  # type: ignore[arg-type]

    async def personal_code(self, cohort_id: int, name: str) -> str:
        async with self.db.transaction() as s:
            member_id = await MemberRepo(s).add_invited(cohort_id, "student", name, None)
            return (await InviteRepo(s).create(cohort_id, "student", member_id=member_id)).code

    async def say(
        self,
        user: SandboxUser,
        text: str,
        chat: SandboxChat | None = None,
        reply_to: SentMessage | None = None,
    ) -> SentMessage:
        """Send `text` as `user` and return the bot's next message in that chat."""
        target = chat or user
        mark = self.api.mark(target)
        await self.api.send_text(user, text, chat=chat, reply_to=reply_to)
        return await self.api.wait_for_message(target, since=mark)

    async def settled(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has handled every update sent so far (joins, service messages):
        each is confirmed to the Bot API server and none is waiting in the inbox."""
        bot = self.api.bot()
        await self.api.wait_until(lambda: not bot.updates, timeout)

        async def idle() -> bool:
            async with self.db.transaction() as s:
                counts = await InboxRepo(s).counts()
            return counts["pending"] + counts["handling"] == 0

        await eventually(idle, timeout, "every stored update handled")

    async def join(self, user: SandboxUser, code: str) -> SentMessage:
        """/start CODE and agree: returns the welcome message."""
        consent = await self.say(user, f"/start {code}")
        mark = self.api.mark(user)
        await self.api.press(user, consent, consent.buttons()[0]["text"])
        return await self.api.wait_for_message(user, since=mark)


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[Harness]:
    async with SandboxServer() as api:
        settings = make_settings(database_url, api.base_url)
        application = build_application(settings, migrate_on_start=False)
        async with running(application):
            db = application.bot_data.database()
            yield Harness(api, application, db)
        assert api.violations == [], "requests Telegram would reject:\n" + "\n".join(api.violations)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
