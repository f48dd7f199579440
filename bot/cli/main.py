"""The `mentorbot` command (Typer): the app and its top-level commands (run, demo, migrate,
export); each group of commands lives in a module of its own and is registered here."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import cohorts, inbox, plans, rounds
from bot.cli.common import err, fail, out, out_console, run_db, settings
from bot.runtime.config import ConfigError
from bot.runtime.logs import configure_logging
from storage import migrate
from storage.db import Database

# Locals in tracebacks could show the token: never print them.
app = typer.Typer(
    help="mentorbot: the weekly check-in of a mentor team with its class.",
    pretty_exceptions_show_locals=False,
)


def main() -> None:
    """Entry point of the `mentorbot` script."""
    app()


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
    from bot.app.runner import run_bot

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


@app.command("export")
def export_cmd(
    cohort: str,
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout)")] = None,
    lang: plans.LangOption = None,
) -> None:
    """The cohort's answers as CSV (UTF-8, a header, one row per answer; column names in
    --lang, else the team's language)."""
    from bot.mentor.export import cohort_csv
    from bot.people.admin import cohort_by_name

    async def export(db: Database) -> tuple[bytes, int]:
        record = await cohort_by_name(db, cohort)
        async with db.transaction() as session:
            language = await plans.chosen_language(session, record.id, lang)
            return await cohort_csv(session, record.id, language)

    content, rows = run_db(export)
    if out is None:
        sys.stdout.write(content.decode("utf-8"))
    else:
        out.write_bytes(content)
        err.print(f"{rows} answers written to {out}")


cohorts.register(app)
inbox.register(app)
plans.register(app)
rounds.register(app)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
