"""A cohort's plan: its own YAML from the database, or the shipped Dutch default."""

from __future__ import annotations

from functools import lru_cache

from bot.plans import Plan, default_plan, load_plan
from storage.db import Session
from storage.records import CohortRecord
from storage.repos import CohortRepo


@lru_cache(maxsize=64)
def _parsed(cohort_id: int, version: int, text: str) -> Plan:
    return load_plan(text, source=f"cohort {cohort_id} plan v{version}")


async def plan_for(session: Session, cohort: CohortRecord) -> Plan:
    """The plan in force; parsed once per (cohort, plan version)."""
    if cohort.plan_version == 0:
        return default_plan()
    text = await CohortRepo(session).plan_yaml(cohort.id)
    return default_plan() if text is None else _parsed(cohort.id, cohort.plan_version, text)
