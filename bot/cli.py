"""The `mentorbot` command (Typer): run the bot and manage cohorts from the shell."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.config import ConfigError, Settings, load_settings
from bot.logsetup import configure_logging
from bot.timespec import parse_weekly
from storage import migrate
from storage.db import Database

T = TypeVar("T")
# Locals in tracebacks could show the token: never print them.
app = typer.Typer(
    help="mentorbot: the weekly check-in of a mentor team with its class.",
    pretty_exceptions_show_locals=False,
)
cohort_app = typer.Typer(help="Create and list cohorts (classes).")
students_app = typer.Typer(help="Import the students of a cohort.")
app.add_typer(cohort_app, name="cohort")
app.add_typer(students_app, name="students")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def out_console() -> Console:
    return out


def main() -> None:
    """Entry point of the `mentorbot` script."""
    app()


def settings() -> Settings:
    """The settings, or one clear line and exit code 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def run_db(action: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate the schema, open the database, run `action`, close it again; an AdminError
    becomes a clear message and exit code 2."""
    from bot.cohorts import AdminError

    config = settings()

    async def go() -> T:
        await migrate.upgrade(config.database_url)
        db = Database(config.database_url)
        try:
            return await action(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except AdminError as exc:
        fail(str(exc))


@app.command("migrate")
def migrate_cmd() -> None:
    """Create or upgrade the database schema."""
    config = settings()
    asyncio.run(migrate.upgrade(config.database_url))
    revision = asyncio.run(migrate.current_revision(config.database_url))
    out.print(f"database at revision {revision}")


@app.command()
def run(
    webhook_url: Annotated[str | None, typer.Option(help="Public HTTPS URL for webhooks")] = None,
    port: Annotated[int, typer.Option(help="Port to listen on in webhook mode")] = 8443,
    secret: Annotated[
        str | None, typer.Option(help="Webhook secret token", envvar="MENTORBOT_WEBHOOK_SECRET")
    ] = None,
    listen: Annotated[str, typer.Option(help="Address to listen on in webhook mode")] = "0.0.0.0",
) -> None:
    """Run the bot (long polling, or webhooks with --webhook-url)."""
    from bot.runner import run_bot

    config = settings()
    try:
        config.token()
    except ConfigError as exc:
        fail(str(exc))
    configure_logging(config)
    run_bot(config, webhook_url=webhook_url, port=port, secret=secret, listen=listen)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for transcripts, chart and export")] = Path(
        "demo-output"
    ),
    weeks: Annotated[int, typer.Option(min=1, max=8, help="Weeks to simulate")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the simulated class")] = 7,
) -> None:
    """Everything on this machine: a local Bot API server, a class of 25 and its mentor team,
    three weeks in about a minute. No Telegram account or token needed."""
    from bot.demo.cli import run_demo_command

    run_demo_command(out, weeks, seed, out_console=out_console())


@cohort_app.command("create")
def cohort_create(
    name: str,
    start: Annotated[str | None, typer.Option(help="Start date YYYY-MM-DD (default today)")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone, e.g. Europe/Amsterdam")] = None,
    plan: Annotated[Path | None, typer.Option(help="Plan YAML file (default: Dutch plan)")] = None,
    expectations: Annotated[str, typer.Option(help="Weekday and time")] = "mon 08:00",
    reflection: Annotated[str, typer.Option(help="Weekday and time")] = "fri 14:00",
    reminder: Annotated[str, typer.Option(help="Weekday and time")] = "sun 18:00",
    digest: Annotated[str, typer.Option(help="Weekday and time")] = "mon 07:00",
) -> None:
    """Create a cohort (one class with its schedule and plan)."""
    from bot.cohorts import create_cohort

    zone = timezone or settings().timezone
    times = {}
    for key, value in {
        "expectations_at": expectations,
        "reflection_at": reflection,
        "reminder_at": reminder,
        "digest_at": digest,
    }.items():
        try:
            times[key] = str(parse_weekly(value))
        except ValueError as exc:
            fail(f"--{key.removesuffix('_at')}: {exc}")
    start_date = _parse_date(start) if start else datetime.now(UTC).date()
    plan_text = _read_text(plan) if plan else None
    cohort = run_db(lambda db: create_cohort(db, name, start_date, zone, times, plan_text))
    out.print(f"cohort {cohort.name!r} created (id {cohort.id}), starting {cohort.start_date}")


@cohort_app.command("list")
def cohort_list() -> None:
    """List the cohorts with their times and numbers of students."""
    from bot.cohorts import cohort_overview

    rows = run_db(cohort_overview)
    table = Table("name", "start", "time zone", "expectations", "reflection", "students", "mentors")
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    out.print(table if rows else "no cohorts yet: mentorbot cohort create NAME")


@students_app.command("import")
def students_import(
    cohort: str,
    file: Path,
    expires_days: Annotated[int | None, typer.Option(help="Codes expire after N days")] = None,
) -> None:
    """Import students from a UTF-8 CSV (columns: name, internship organisation)."""
    from bot.cohorts import import_roster
    from bot.roster import RosterError, deep_link

    raw = _read_bytes(file)
    try:
        made = run_db(lambda db: import_roster(db, cohort, raw, expires_days))
    except RosterError as exc:
        fail(f"{file}: nothing imported\n" + "\n".join(f"  {p}" for p in exc.problems))
    username = settings().bot_username
    for item in made:
        link = deep_link(username, item.invite.code)
        out.print(f"{item.name}\t{item.organisation or ''}\t{link or ''}\t{item.invite.code}")
    err.print(f"{len(made)} students imported into {cohort!r}")


@app.command()
def invite(
    cohort: str,
    role: Annotated[str, typer.Option(help="student, mentor or observer")] = "student",
    count: Annotated[int, typer.Option(min=1, max=500, help="How many codes")] = 1,
    expires_days: Annotated[int | None, typer.Option(help="Codes expire after N days")] = None,
    sheet: Annotated[Path | None, typer.Option(help="Write a printable PDF with QR codes")] = None,
    pending: Annotated[
        bool, typer.Option(help="List the personal codes of imported students not yet joined")
    ] = False,
) -> None:
    """Make invite codes: one line per invite, ending in the code."""
    from bot.cohorts import make_invites
    from bot.roster import ROLES, deep_link

    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    made = run_db(lambda db: make_invites(db, cohort, role, count, expires_days, pending))
    username = settings().bot_username
    for item in made:
        link = deep_link(username, item.invite.code)
        label = item.name or role
        out.print(
            f"{label}\t{link}\t{item.invite.code}" if link else f"{label}\t{item.invite.code}"
        )
    if sheet is not None:
        from bot.sheet import write_sheet

        write_sheet(sheet, cohort, made, username)
        err.print(f"sheet written to {sheet}")


@app.command("export")
def export_cmd(
    cohort: str,
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout)")] = None,
) -> None:
    """The cohort's answers as CSV (UTF-8, a header, one row per answer)."""
    from bot.cohorts import cohort_by_name
    from bot.export import cohort_csv

    async def export(db: Database) -> tuple[bytes, int]:
        record = await cohort_by_name(db, cohort)
        async with db.transaction() as session:
            return await cohort_csv(session, record.id)

    content, rows = run_db(export)
    if out is None:
        sys.stdout.write(content.decode("utf-8"))
    else:
        out.write_bytes(content)
        err.print(f"{rows} answers written to {out}")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--start: {text!r} is not a date like 2026-09-01")


def _read_text(path: Path) -> str:
    return _read_bytes(path).decode("utf-8", errors="strict")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def _register_feature_commands() -> None:
    from bot import cli_plans, cli_rounds

    cli_plans.register(app)
    cli_rounds.register(app)


_register_feature_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
