"""`mentorbot push` and `mentorbot cohort times` as a coordinator uses them (real SQLite file)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import Database
from storage.repos import CohortRepo, MemberRepo
from tests.schedule.conftest import outbox_by_kind


@pytest.fixture
def database_file(clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def cli(database_file: str):
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 2, result.output
            assert "Traceback" not in result.output
        return result

    return invoke


def in_database(url: str, action):
    """Run `action(session)` in one transaction on the CLI's database file."""

    async def go():
        db = Database(url)
        try:
            async with db.transaction() as session:
                return await action(session)
        finally:
            await db.dispose()

    return asyncio.run(go())


def started_two_weeks_ago(cli, url: str, students: int = 2) -> None:
    """Cohort PW3A in its third plan week, with active students."""
    start = datetime.now(ZoneInfo("Europe/Amsterdam")).date() - timedelta(days=14)
    cli("cohort", "create", "PW3A", "--start", start.isoformat())

    async def enrol(session):
        cohort = await CohortRepo(session).by_name("PW3A")
        for n in range(students):
            await MemberRepo(session).add_active(
                cohort.id, "student", name=f"S{n}", telegram_user_id=500 + n, chat_id=500 + n,
                consent_version="v", now=datetime.now(ZoneInfo("UTC")),
            )  # fmt: skip

    in_database(url, enrol)


def test_push_queues_once_and_says_so(cli, database_file: str) -> None:
    started_two_weeks_ago(cli, database_file)
    first = cli("push", "PW3A", "reflection").output
    assert "queued week 3 reflection of 'PW3A': 2 messages" in first
    assert "the running bot delivers them" in first
    again = cli("push", "PW3A", "reflection").output
    assert "week 3 reflection of 'PW3A' was queued already" in again
    assert "nothing queued now" in again
    earlier = cli("push", "PW3A", "expectations", "--week", "2").output
    assert "queued week 2 expectations" in earlier

    assert asyncio.run(_outbox(Database(database_file))) == {"reflection": 2, "expectations": 2}


async def _outbox(db: Database) -> dict[str, int]:
    try:
        return await outbox_by_kind(db)
    finally:
        await db.dispose()


def test_push_refuses_with_one_clear_line(cli, database_file: str) -> None:
    started_two_weeks_ago(cli, database_file)
    assert (
        "push expectations, reflection or observation"
        in cli("push", "PW3A", "digest", ok=False).output
    )
    assert "no cohort named 'PW9'" in cli("push", "PW9", "reflection", ok=False).output
    future = cli("push", "PW3A", "reflection", "--week", "7", ok=False).output
    assert "week 7 has not begun: the current plan week is 3" in future
    cli("push", "PW3A", "reflection", "--week", "0", ok=False)


def test_cohort_times_shows_and_changes_the_schedule(cli, database_file: str) -> None:
    cli("cohort", "create", "PW3A", "--start", "2026-08-31")
    shown = cli("cohort", "times", "PW3A").output
    assert "cohort 'PW3A' (Europe/Amsterdam)" in shown
    assert "reflection   fri 14:00" in shown and "saved" not in shown

    changed = cli(
        "cohort", "times", "PW3A", "--reflection", "donderdag 15:30", "--digest", "MON 6:45",
        "--timezone", "Europe/London",
    ).output  # fmt: skip
    assert "cohort 'PW3A' (Europe/London)" in changed
    assert "reflection   thu 15:30" in changed and "digest       mon 06:45" in changed
    assert "expectations mon 08:00" in changed
    assert "within a minute" in changed
    assert "thu 15:30" in cli("cohort", "list").output

    async def version(session):
        return (await CohortRepo(session).by_name("PW3A")).schedule_version

    assert in_database(database_file, version) == 1  # what a running bot's poll notices


def test_cohort_times_refuses_bad_input_and_changes_nothing(cli, database_file: str) -> None:
    cli("cohort", "create", "PW3A")
    bad_day = cli("cohort", "times", "PW3A", "--reminder", "someday 18:00", ok=False).output
    assert "--reminder:" in bad_day and "unknown day" in bad_day
    bad_zone = cli("cohort", "times", "PW3A", "--timezone", "Mars/Olympus", ok=False).output
    assert "--timezone: unknown time zone 'Mars/Olympus'" in bad_zone
    missing = cli("cohort", "times", "PW9", "--reflection", "thu 15:00", ok=False).output
    assert "no cohort named 'PW9'" in missing

    async def version(session):
        return (await CohortRepo(session).by_name("PW3A")).schedule_version

    assert in_database(database_file, version) == 0
