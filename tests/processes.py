"""Helpers of the process tests (tests/process, tests/multi): the real bot (`python -m bot.cli
run`) as a subprocess, talking to a sandbox Bot API server that runs in the test process, on a
real database file (or PostgreSQL).

Cohorts and students are written to the database directly before the bot starts; rounds are
queued with the real CLI (`mentorbot push`) or `bot.schedule.on_demand.push`. The bot in a
process runs on the wall clock (it is the real program), so a cohort's weekly times are put
where nothing falls due by itself during a test. Nothing waits by sleeping a fixed time: every
wait is for a condition, with a timeout. Every process started here is killed in the fixture's
finally, whatever the test did."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.people.enrolment import consent_version
from bot.schedule.timespec import DAY_NAMES
from storage.db import Database
from storage.models import OutboxMessage
from storage.repos import MemberRepo
from tests.factories import make_cohort
from tgsandbox import DEFAULT_TOKEN, SandboxServer, SandboxUser

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:  # noqa: ASYNC109
    """Poll `check()` (sync or async) until it is truthy; TimeoutError naming `what`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.02)


@dataclass
class BotProcess:
    """One run of the bot; its output goes to `log_path`."""

    proc: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_log(self, needle: str, timeout: float = 45.0) -> None:  # noqa: ASYNC109
        def seen() -> bool:
            if self.proc.returncode is not None:
                raise RuntimeError(f"the bot exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            return needle in self.log()

        try:
            await eventually(seen, timeout, f"log line {needle!r}")
        except TimeoutError:
            raise TimeoutError(f"{needle!r} not logged; log:\n{self.log()[-3000:]}") from None

    def signal(self, sig: int) -> None:
        if self.proc.returncode is None:
            os.kill(self.proc.pid, sig)

    async def exit_code(self, timeout: float) -> int:  # noqa: ASYNC109
        return await asyncio.wait_for(self.proc.wait(), timeout)


@dataclass
class World:
    """A sandbox, a database and the bot processes of one test."""

    api: SandboxServer
    database_url: str
    db: Database
    tmp: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[BotProcess] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MENTORBOT_", "TELEGRAM_", "DATABASE_URL"))
        }
        env.update(
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=self.api.base_url,
            DATABASE_URL=self.database_url,
            MENTORBOT_LOG_LEVEL="INFO",
            MENTORBOT_GRACE_HOURS="0",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        return env

    async def start_bot(self, *args: str, ready: str | None = None) -> BotProcess:
        """`mentorbot run ARGS`; returns once it logged that it runs (or `ready`)."""
        log_path = self.tmp / f"bot-{len(self.processes) + 1}.log"
        with log_path.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                *args,
                env=self.env(),
                cwd=self.tmp,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        bot = BotProcess(proc, log_path)
        self.processes.append(bot)
        await bot.wait_log(ready or "mentorbot running mode=")
        return bot

    async def cli(self, *args: str, timeout: float = 30.0) -> str:  # noqa: ASYNC109
        """Run a `mentorbot` command to the end; its output (exit code 0 is asserted)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            env=self.env(),
            cwd=self.tmp,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), timeout)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        text = output.decode("utf-8", errors="replace")
        assert proc.returncode == 0, f"mentorbot {' '.join(args)} exited {proc.returncode}:\n{text}"
        return text

    async def cohort(self, name: str = "PW3A", weeks_back: int = 3) -> int:
        """A cohort that began `weeks_back` weeks before this one, whose weekly times are all
        still ahead this week (so the scheduler's catch-up opens nothing by itself: only pushed
        rounds go out). With `weeks_back=0` no earlier week exists either, whose past moment
        the catch-up would record as skipped (closing a pushed round of that kind)."""
        today = datetime.now(UTC).date()
        start = today - timedelta(days=today.weekday() + 7 * weeks_back)  # a Monday
        # Tomorrow, in this week; but on a Sunday tomorrow is the past Monday of this week (a
        # due moment: skipped "too late", closing the pushed rounds), so late tonight then.
        when = "sun 23:59" if today.weekday() == 6 else f"{DAY_NAMES[today.weekday() + 1]} 00:00"
        times = dict.fromkeys(
            ("expectations_at", "reflection_at", "reminder_at", "digest_at"), when
        )
        return await make_cohort(self.db, name, start=start, timezone="UTC", **times)

    async def students(self, cohort_id: int, count: int, prefix: str = "S") -> list[SandboxUser]:
        """`count` sandbox users enrolled (with consent) as active students of the cohort."""
        users = [self.api.add_user(f"{prefix}{i:03d}") for i in range(count)]
        now = datetime.now(UTC)
        async with self.db.transaction() as s:
            repo = MemberRepo(s)
            for user in users:
                await repo.add_active(
                    cohort_id,
                    "student",
                    name=user.first_name,
                    telegram_user_id=user.id,
                    chat_id=user.id,
                    consent_version=consent_version(),
                    now=now,
                )
        return users

    async def outbox_counts(self) -> dict[str, int]:
        async with self.db.transaction() as s:
            rows = await s.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: int(n) for status, n in rows.all()}

    async def repeats(self) -> int:
        async with self.db.transaction() as s:
            return int(await s.scalar(select(func.coalesce(func.sum(OutboxMessage.repeats), 0))))

    async def kill_all(self) -> None:
        for bot in self.processes:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await bot.proc.wait()


SIGTERM, SIGKILL, SIGINT = signal.SIGTERM, signal.SIGKILL, signal.SIGINT
