"""The end-to-end harness: the real Application polling the sandbox Bot API server, on a real
database, on a clock the test owns. Nothing of the project is mocked; the sandbox checks every
request against the Bot API spec and the test fails on any violation.

The app gets a FakeClock and no round scheduler: nothing opens a round or writes a skipped one
behind a test's back. A test opens rounds explicitly (`scheduler.push`, `advance`) and moves
time with `advance`. Build one with `tests.conftest.make_harness` or use the `h` fixture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.runtime.context import AppState, MentorApp
from bot.schedule.clock import FakeClock
from bot.schedule.rounds import OpenedRound
from storage.db import Database
from storage.repos import CohortRepo, InviteRepo, MemberRepo
from storage.repos.inbox import InboxRepo
from tests.processes import eventually
from tgsandbox import SandboxChat, SandboxServer, SandboxUser, SentMessage

COHORT_START = date(2026, 9, 1)  # a Tuesday; the default cohort of `Harness.cohort`
HARNESS_START = datetime(2026, 9, 8, 10, 0, tzinfo=UTC)  # week 2 of that cohort, a Tuesday


@dataclass
class Harness:
    api: SandboxServer
    app: MentorApp
    db: Database
    clock: FakeClock

    @property
    def state(self) -> AppState:
        return self.app.bot_data

    def now(self) -> datetime:
        """The time the bot lives at (the harness's FakeClock)."""
        return self.clock.now()

    async def advance(self, delta: timedelta) -> list[OpenedRound]:
        """Move the bot's clock forward and open, on time, the rounds due on the way (the
        first call also opens what is due at the start). Only moving: `h.clock.advance`."""
        return await self.state.live().scheduler.advance_to(self.clock.now() + delta)

    async def cohort(self, name: str = "PW3A", start: date = COHORT_START) -> int:
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
