"""Coordinator operations behind the CLI: cohorts, class lists and invites."""

from __future__ import annotations

from datetime import date, datetime

from bot.people.roster import (
    Invitation,
    create_invites,
    expiry,
    import_students,
    pending_invitations,
)
from storage.db import Database, Session
from storage.records import CohortRecord
from storage.repos import CohortRepo, MemberRepo
from storage.repos.cohorts import CohortExists


class AdminError(Exception):
    """A coordinator's request that cannot be done; the message says why, in one line."""


async def create_cohort(
    db: Database,
    name: str,
    start: date,
    timezone: str,
    times: dict[str, str],
    plan_text: str | None,
) -> CohortRecord:
    """Create a cohort; a plan given with it must validate first."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise AdminError("the cohort name must be 1 to 100 characters")
    if plan_text is not None:
        plan_text = validated_plan(plan_text, "--plan")
    async with db.transaction() as session:
        try:
            cohort = await CohortRepo(session).create(name, start, timezone, **times)
        except CohortExists:
            raise AdminError(f"a cohort named {name!r} exists already") from None
        if plan_text is not None:
            await CohortRepo(session).update_settings(
                cohort.id, plan_yaml=plan_text, plan_version=1
            )
    return cohort


def validated_plan(text: str, source: str) -> str:
    """The plan text if it validates; otherwise AdminError with every error and its line."""
    from bot.plans import PlanError, load_plan

    try:
        load_plan(text, source)
    except PlanError as exc:
        raise AdminError(f"plan refused, nothing changed:\n{exc}") from None
    return text


async def cohort_overview(db: Database) -> list[tuple[object, ...]]:
    async with db.transaction() as session:
        cohorts = await CohortRepo(session).all()
        counts = await MemberRepo(session).active_counts()
    return [
        (
            c.name,
            c.start_date,
            c.timezone,
            c.expectations_at,
            c.reflection_at,
            counts.get((c.id, "student"), 0),
            counts.get((c.id, "mentor"), 0),
        )
        for c in cohorts
    ]


async def cohort_by_name(db: Database, name: str) -> CohortRecord:
    """`find_cohort` in a transaction of its own."""
    async with db.transaction() as session:
        return await find_cohort(session, name)


async def find_cohort(session: Session, cohort: str | int) -> CohortRecord:
    """A cohort by name, or else by id; AdminError naming it when there is none."""
    repo = CohortRepo(session)
    found = await repo.by_name(cohort) if isinstance(cohort, str) else await repo.get(cohort)
    if found is None and isinstance(cohort, str) and cohort.isdigit():
        found = await repo.get(int(cohort))
    if found is None:
        raise AdminError(f"no cohort named {cohort!r} (see: mentorbot cohort list)")
    return found


async def import_roster(
    db: Database, cohort_name: str, raw: bytes, expires_days: int | None, now: datetime
) -> list[Invitation]:
    """Invite the class list's students; their codes expire `expires_days` after `now`."""
    cohort = await cohort_by_name(db, cohort_name)
    async with db.transaction() as session:
        return await import_students(session, cohort, raw, expiry(now, expires_days))


async def make_invites(
    db: Database,
    cohort_name: str,
    role: str,
    count: int,
    expires_days: int | None,
    pending: bool,
    now: datetime,
) -> list[Invitation]:
    """New invite codes (expiring `expires_days` after `now`), or with `pending` the unused."""
    cohort = await cohort_by_name(db, cohort_name)
    async with db.transaction() as session:
        if pending:
            return await pending_invitations(session, cohort)
        return await create_invites(session, cohort, role, count, expiry(now, expires_days))
