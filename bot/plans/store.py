"""A cohort's plan: its own YAML from the database, or the shipped Dutch default."""

from __future__ import annotations

from functools import lru_cache

from bot.plans import Plan, default_plan, load_plan
from storage.db import Session
from storage.records import CohortRecord
from storage.repos import CohortRepo


@lru_cache(maxsize=64)
def _parsed(text: str) -> Plan:
    # Keyed by the text, not the cohort: a school's classes mostly load the same plan, and a
    # national Monday opens 2,000 cohorts; 64 distinct plans stay parsed. The text was
    # validated when `mentorbot plan load` stored it, so the source name is rarely read.
    return load_plan(text, source="plan in the database")


async def plan_for(session: Session, cohort: CohortRecord) -> Plan:
    """The plan in force; parsed once per distinct plan text."""
    if cohort.plan_version == 0:
        return default_plan()
    text = await CohortRepo(session).plan_yaml(cohort.id)
    return default_plan() if text is None else _parsed(text)
