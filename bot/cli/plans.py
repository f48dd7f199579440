"""CLI commands for plans: load a cohort's plan (validated as a whole) and show a week.

`plan show` (like `export`) speaks the cohort's team language unless `--lang` says otherwise:
the coordinator checks what the class gets in the language its mentor team reads, and
`--lang en` shows the English texts that English-reading students get."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import out, read_text, run_db
from bot.people.admin import AdminError, cohort_by_name, validated_plan
from bot.texts import LANGUAGES, t
from storage.db import Database, Session
from storage.repos import CohortRepo

if TYPE_CHECKING:
    from bot.plans.model import ResolvedWeek

plan_app = typer.Typer(help="Load and inspect the plan of a cohort.")
LangOption = Annotated[
    str | None, typer.Option("--lang", help="nl or en (default: the cohort's team language)")
]


async def chosen_language(session: Session, cohort_id: int, lang: str | None) -> str:
    """`--lang` when given, else the language the cohort's mentor team reads."""
    from bot.outbox.team import team_language

    if lang is None:
        return await team_language(session, cohort_id)
    if lang not in LANGUAGES:
        raise AdminError(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return lang


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command("list")
def plan_list() -> None:
    """List the plans that come with mentorbot: use a name with `cohort create --plan NAME`."""
    from rich.table import Table

    from bot.plans import shipped_plan, shipped_plan_names

    table = Table("name", "plan", "weeks", "languages")
    for name in shipped_plan_names():
        plan = shipped_plan(name)
        languages = "nl" if plan.missing_translations() else "nl, en"
        table.add_row(name, plan.name, str(plan.last_week), languages)
    out.print(table)


@plan_app.command("load")
def plan_load(cohort: str, file: Path) -> None:
    """Validate FILE and make it the cohort's plan; on any error the old plan stays."""

    text = read_text(file)

    async def load(db: Database) -> int:
        record = await cohort_by_name(db, cohort)
        validated_plan(text, str(file))
        async with db.transaction() as session:
            version = record.plan_version + 1
            await CohortRepo(session).update_settings(
                record.id, plan_yaml=text, plan_version=version
            )
        return version

    version = run_db(load)
    out.print(f"plan {file} loaded for {cohort!r} (plan version {version})")


@plan_app.command("show")
def plan_show(
    cohort: str,
    week: Annotated[int, typer.Option(min=1, help="Plan week number")] = 1,
    lang: LangOption = None,
) -> None:
    """Show what week N sends: expectations, focus skills and the questions."""
    from bot.plans.store import plan_for

    async def show(db: Database) -> str:
        record = await cohort_by_name(db, cohort)
        async with db.transaction() as session:
            plan = await plan_for(session, record)
            language = await chosen_language(session, record.id, lang)
        try:
            resolved = plan.week(week, language)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        return "\n".join(week_lines(plan.name, resolved, language))

    out.print(run_db(show), markup=False)


def week_lines(plan_name: str, resolved: ResolvedWeek, lang: str) -> list[str]:
    """The week as text; question kinds stay the plan's own words (`kind: rating`)."""
    lines = [t("plan.show.header", lang, plan=plan_name, week=resolved.number), "",
             resolved.expectations.strip(), ""]  # fmt: skip
    skills = ", ".join(f"{s.title} ({s.key})" for s in resolved.focus_skills)
    lines += [t("plan.show.focus", lang, skills=skills), ""]
    for number, question in enumerate(resolved.questions, 1):
        extra = " " + t("plan.show.optional", lang) if question.optional else ""
        lines.append(f"{number}. [{question.kind}] {question.prompt}{extra}")
        lines += [f"     - {option.label}" for option in question.options]
    return lines
