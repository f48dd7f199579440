"""Helpers of the multi-instance tests: several `mentorbot run` processes on one fresh
PostgreSQL database behind the sandbox's round-robin load balancer. Builds on the subprocess
helpers of tests/process (`World`, `BotProcess`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psutil
from sqlalchemy import make_url, select, text

from storage.db import Database
from storage.models import OutboxMessage
from storage.repos import MemberRepo
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.processes import BotProcess, World, eventually, free_port
from tgsandbox import SandboxServer, SandboxUser


def webhook_runs(count: int, secret: str) -> tuple[list[int], list[str], list[list[str]]]:
    """Ports, webhook URLs and `mentorbot run` arguments of `count` webhook instances."""
    ports = [free_port() for _ in range(count)]
    urls = [f"http://127.0.0.1:{port}/telegram" for port in ports]
    runs = [
        ["--webhook-url", u, "--port", str(p), "--secret", secret, "--listen", "127.0.0.1"]
        for u, p in zip(urls, ports, strict=True)
    ]
    return ports, urls, runs


@asynccontextmanager
async def postgres_world(tmp_path: Path) -> AsyncIterator[Instances]:
    """A sandbox and a fresh, empty PostgreSQL database (not migrated); every bot process
    started through it is killed, and the database dropped, whatever happens."""
    await require_postgres()
    url = await create_pg_database()
    try:
        db = Database(url)
        try:
            async with SandboxServer() as api:
                world = Instances(api, url, db, tmp_path)
                try:
                    yield world
                finally:
                    await world.kill_all()
        finally:
            await db.dispose()
    finally:
        await drop_pg_database(url)


class Instances(World):
    """`World` of tests/process, with several instances started at the same moment."""

    async def start_together(self, *runs: list[str]) -> list[BotProcess]:
        """Start one `mentorbot run ARGS` per `runs` at once; return when all of them run.

        Each gets its own $HOSTNAME, as containers on several machines would: an instance then
        cannot see that another one's process is gone, only that its lease lapsed."""
        bots = []
        for number, args in enumerate(runs, start=1):
            log_path = self.tmp / f"bot-{len(self.processes) + 1}.log"
            with log_path.open("wb") as out:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    *args,
                    env=self.env() | {"HOSTNAME": f"instance-{number}"},
                    cwd=self.tmp,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            bot = BotProcess(proc, log_path)
            self.processes.append(bot)
            bots.append(bot)
        await asyncio.gather(*(bot.wait_log("mentorbot running mode=", 60) for bot in bots))
        return bots

    async def mentor(self, cohort_id: int) -> SandboxUser:
        user = self.api.add_user("Mentor")
        async with self.db.transaction() as s:
            await MemberRepo(s).add_active(
                cohort_id,
                "mentor",
                name=user.first_name,
                telegram_user_id=user.id,
                chat_id=user.id,
                consent_version=None,
                now=datetime.now(UTC),
            )
        return user

    def database_ports(self, pid: int) -> list[int]:
        """The local ports of a live instance's connections to PostgreSQL."""
        server = make_url(self.database_url).port or 5432
        return [
            c.laddr.port
            for c in psutil.Process(pid).net_connections("tcp")
            if c.raddr and c.raddr.port == server
        ]

    async def sessions_over(self, ports: list[int]) -> None:
        """Wait until PostgreSQL has finished with a killed instance's sessions (its
        `database_ports`, read before the kill): a statement it sent just before it died
        still runs and commits, e.g. a row it was sending marked sent."""
        query = text("SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(:ports)")

        async def over() -> bool:
            return await self.scalar(query.bindparams(ports=ports)) == 0

        await eventually(over, 10, "the killed instance's database sessions ended")

    async def claims_of(self, pid: int) -> list[int]:
        """The outbox rows an instance (by pid) holds `sending`: in doubt if it died."""
        async with self.db.transaction() as s:
            rows = await s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by.like(f"%:{pid}:%"),
                )
            )
            return list(rows)

    async def scalar(self, statement: object) -> int:
        async with self.db.transaction() as s:
            return int(await s.scalar(statement) or 0)  # type: ignore[call-overload]


async def metric(port: int, name: str) -> float:
    """One unlabelled sample from an instance's /metrics."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        body = await response.text()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0
