"""A cohort's plan: its own YAML from the database, or the shipped Dutch default."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot.plans import Plan, ResolvedWeek, default_plan, load_plan
from storage.records import CohortRecord
from storage.repos import CohortRepo


@lru_cache(maxsize=64)
def _parsed(cohort_id: int, version: int, text: str) -> Plan:
    return load_plan(text, source=f"cohort {cohort_id} plan v{version}")


async def plan_for(session: AsyncSession, cohort: CohortRecord) -> Plan:
    """The plan in force; parsed once per (cohort, plan version)."""
    if cohort.plan_version == 0:
        return default_plan()
    text = await CohortRepo(session).plan_yaml(cohort.id)
    return default_plan() if text is None else _parsed(cohort.id, cohort.plan_version, text)


# Resolving a week builds pydantic models (about half the cost of opening a round for a big
# class when done per student). Plans are immutable and cached per (cohort, version), so the
# resolved weeks are cached per plan object; the plan is kept with them so its id stays valid.
_WEEKS: dict[tuple[int, int, str], tuple[Plan, ResolvedWeek]] = {}
_WEEKS_MAX = 512


def week_of(plan: Plan, number: int, lang: str = "nl") -> ResolvedWeek:
    """`plan.week(number, lang)`, resolved once per plan and language."""
    key = (id(plan), number, lang)
    cached = _WEEKS.get(key)
    if cached is not None and cached[0] is plan:
        return cached[1]
    if len(_WEEKS) >= _WEEKS_MAX:
        _WEEKS.clear()
    week = plan.week(number, lang)
    _WEEKS[key] = (plan, week)
    return week
