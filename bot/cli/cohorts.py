"""`mentorbot cohort create|list`, `students import` and `invite`: setting up a class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import err, fail, out, parse_date, read_bytes, read_text, run_db, settings
from bot.people.roster import Invitation
from bot.schedule.clock import SystemClock
from bot.schedule.timespec import parse_weekly
from storage.db import Database
from storage.repos import InviteRepo

cohort_app = typer.Typer(help="Create and list cohorts (classes).")
students_app = typer.Typer(help="Import the students of a cohort.")


def register(app: typer.Typer) -> None:
    """Add the cohort and students groups and `invite` to `app`."""
    app.add_typer(cohort_app, name="cohort")
    app.add_typer(students_app, name="students")
    app.command()(invite)


@cohort_app.command("create")
def cohort_create(
    name: str,
    start: Annotated[str | None, typer.Option(help="Start date YYYY-MM-DD (default today)")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone, e.g. Europe/Amsterdam")] = None,
    plan: Annotated[
        str | None,
        typer.Option(help="A shipped plan by name (see `mentorbot plan list`) or a plan YAML file"),
    ] = None,
    expectations: Annotated[str, typer.Option(help="Weekday and time")] = "mon 08:00",
    reflection: Annotated[str, typer.Option(help="Weekday and time")] = "fri 14:00",
    reminder: Annotated[str, typer.Option(help="Weekday and time")] = "sun 18:00",
    digest: Annotated[str, typer.Option(help="Weekday and time")] = "mon 07:00",
    observation: Annotated[str, typer.Option(help="Weekday and time")] = "fri 16:00",
) -> None:
    """Create a cohort (one class with its schedule and plan)."""
    from bot.people.admin import create_cohort

    zone = timezone or settings().timezone
    times = {}
    for key, value in {
        "expectations_at": expectations,
        "reflection_at": reflection,
        "reminder_at": reminder,
        "digest_at": digest,
        "observation_at": observation,
    }.items():
        try:
            times[key] = str(parse_weekly(value))
        except ValueError as exc:
            fail(f"--{key.removesuffix('_at')}: {exc}")
    start_date = parse_date(start) if start else datetime.now(UTC).date()
    plan_text = plan_text_for(plan) if plan else None
    cohort = run_db(lambda db: create_cohort(db, name, start_date, zone, times, plan_text))
    out.print(f"cohort {cohort.name!r} created (id {cohort.id}), starting {cohort.start_date}")


def plan_text_for(plan: str) -> str | None:
    """The YAML of `--plan`: a shipped plan by name, else a file; None for the default plan
    (the cohort then follows the shipped default as it improves)."""
    from bot.plans import DEFAULT_PLAN_NAME, shipped_plan_names, shipped_plan_text

    if plan == DEFAULT_PLAN_NAME:
        return None
    if plan in shipped_plan_names():
        return shipped_plan_text(plan)
    path = Path(plan)
    if not path.exists():
        names = ", ".join(shipped_plan_names())
        fail(f"--plan: no shipped plan named {plan!r} and no such file (shipped plans: {names})")
    return read_text(path)


@cohort_app.command("list")
def cohort_list() -> None:
    """List the cohorts with their times and numbers of students."""
    from bot.people.admin import cohort_overview

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
    from bot.people.admin import import_roster
    from bot.people.roster import RosterError, deep_link

    raw = read_bytes(file)
    try:
        now = SystemClock().now()  # a coordinator's command runs on the wall clock
        made = run_db(lambda db: import_roster(db, cohort, raw, expires_days, now))
    except RosterError as exc:
        fail(f"{file}: nothing imported\n" + "\n".join(f"  {p}" for p in exc.problems))
    username = settings().bot_username
    for item in made:
        link = deep_link(username, item.invite.code)
        out.print(f"{item.name}\t{item.organisation or ''}\t{link or ''}\t{item.invite.code}")
    err.print(f"{len(made)} students imported into {cohort!r}")


def invite(
    cohort: str,
    role: Annotated[
        str, typer.Option(help="student, mentor, observer or werkbegeleider")
    ] = "student",
    student: Annotated[
        str | None, typer.Option(help="With --role werkbegeleider: the student's name")
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=500, help="How many codes")] = 1,
    expires_days: Annotated[int | None, typer.Option(help="Codes expire after N days")] = None,
    sheet: Annotated[Path | None, typer.Option(help="Write a printable PDF with QR codes")] = None,
    pending: Annotated[
        bool, typer.Option(help="List the personal codes of imported students not yet joined")
    ] = False,
) -> None:
    """Make invite codes: one line per invite, ending in the code."""
    from bot.people.admin import make_invites
    from bot.people.roster import ROLES, deep_link

    now = SystemClock().now()  # a coordinator's command runs on the wall clock
    if role == "werkbegeleider":
        made = _werkbegeleider_invite(cohort, student, expires_days)
    elif role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, werkbegeleider")
    else:
        made = run_db(lambda db: make_invites(db, cohort, role, count, expires_days, pending, now))
    username = settings().bot_username
    for item in made:
        link = deep_link(username, item.invite.code)
        label = item.name or role
        out.print(
            f"{label}\t{link}\t{item.invite.code}" if link else f"{label}\t{item.invite.code}"
        )
    if sheet is not None:
        from bot.people.sheet import write_sheet

        write_sheet(sheet, cohort, made, username)
        err.print(f"sheet written to {sheet}")


def _werkbegeleider_invite(
    cohort: str, student: str | None, expires_days: int | None
) -> list[Invitation]:
    """One link for the werkbegeleider of the named student (single use, 14 days by default)."""
    if not student:
        fail('--role werkbegeleider needs --student "NAME"')
    name = student
    return [run_db(lambda db: werkbegeleider_invitation(db, cohort, name, expires_days))]


async def werkbegeleider_invitation(
    db: Database, cohort_name: str, student_name: str, expires_days: int | None
) -> Invitation:
    """The link of one student's werkbegeleider; AdminError when the student is unknown."""
    from bot.observe.links import new_link
    from bot.people.admin import AdminError, cohort_by_name
    from storage.repos import MemberRepo

    cohort = await cohort_by_name(db, cohort_name)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        students = await MemberRepo(session).in_cohort(cohort.id, "student")
        wanted = " ".join(student_name.split()).casefold()
        found = [m for m in students if m.name.casefold() == wanted and m.status != "stopped"]
        if len(found) != 1:
            known = "no" if not found else "more than one"
            raise AdminError(f"{known} student named {student_name!r} in {cohort.name!r}")
        invite = await new_link(session, found[0], now)
        if expires_days is not None:
            invite = await InviteRepo(session).set_expiry(
                invite.code, now + timedelta(days=expires_days)
            )
    return Invitation(f"werkbegeleider van {found[0].name}", found[0].organisation, invite)
