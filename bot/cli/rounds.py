"""CLI commands about rounds: push one now, and show or change a cohort's weekly times.
Registered on the main Typer app by bot.cli.main."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.cli.common import fail, out, run_db
from bot.people.admin import find_cohort
from bot.schedule.clock import SystemClock
from bot.schedule.on_demand import Pushed, push
from bot.schedule.scheduler import TIME_FIELDS
from bot.schedule.timespec import parse_weekly
from storage.db import Database
from storage.records import CohortRecord
from storage.repos import CohortRepo

PUSHABLE = ("expectations", "reflection", "observation")
TimeOption = Annotated[str | None, typer.Option(help='Weekday and time, e.g. "mon 08:00"')]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app` (and `times` to its `cohort` group)."""
    app.command("push")(push_command)
    from bot.cli.cohorts import cohort_app

    cohort_app.command("times")(times_command)


def push_command(
    cohort: Annotated[str, typer.Argument(help="Cohort name (or id)")],
    kind: Annotated[str, typer.Argument(help="expectations, reflection or observation")],
    week: Annotated[
        int | None, typer.Option(min=1, help="Plan week (default: the current one)")
    ] = None,
) -> None:
    """Queue a round now; the running bot delivers it. Idempotent: once per week."""

    if kind not in PUSHABLE:
        fail(f"{kind!r}: push expectations, reflection or observation")
    pushed = run_db(lambda db: push(db, cohort, kind, week, now=SystemClock().now()))
    out.print(_push_report(pushed))


def _push_report(pushed: Pushed) -> str:
    what = f"week {pushed.week} {pushed.kind} of {pushed.cohort.name!r}"
    if not pushed.created:
        since = pushed.round.due_at.astimezone(ZoneInfo(pushed.cohort.timezone))
        return f"{what} was queued already ({since:%Y-%m-%d %H:%M}): nothing queued now"
    count = pushed.opened.queued
    plural = "message" if count == 1 else "messages"
    return f"queued {what}: {count} {plural}; the running bot delivers them"


def times_command(
    cohort: Annotated[str, typer.Argument(help="Cohort name (or id)")],
    expectations: TimeOption = None,
    reflection: TimeOption = None,
    reminder: TimeOption = None,
    digest: TimeOption = None,
    observation: TimeOption = None,
    every: Annotated[
        int | None, typer.Option(min=1, max=2, help="Observation every week (1) or other (2)")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone, e.g. Europe/Amsterdam")] = None,
) -> None:
    """Show a cohort's weekly times, or change them; a running bot follows within a minute."""

    given = {"expectations": expectations, "reflection": reflection}
    given |= {"reminder": reminder, "digest": digest, "observation": observation}
    values: dict[str, str | int] = {}
    for kind, text in given.items():
        if text is not None:
            try:
                values[TIME_FIELDS[kind]] = str(parse_weekly(text))
            except ValueError as exc:
                fail(f"--{kind}: {exc}")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            fail(f"--timezone: unknown time zone {timezone!r}")
        values["timezone"] = timezone
    if every is not None:
        values["observation_every"] = every
    record = run_db(lambda db: _update_times(db, cohort, values))
    out.print(f"cohort {record.name!r} ({record.timezone})")
    for kind, column in TIME_FIELDS.items():
        out.print(f"  {kind:<13}{getattr(record, column)}")
    out.print(f"  observation every {record.observation_every} week(s)")
    if values:
        out.print("saved; a running bot uses these times within a minute")


async def _update_times(db: Database, cohort: str, values: dict[str, str | int]) -> CohortRecord:
    async with db.transaction() as session:
        record = await find_cohort(session, cohort)
        if values:
            # bumps schedule_version: that is what a running bot's poll looks for
            await CohortRepo(session).update_settings(record.id, **values)
    async with db.transaction() as session:  # read back what was stored
        stored = await CohortRepo(session).get(record.id)
    assert stored is not None
    return stored
