"""Plans: what a cohort is asked each week.

Load a plan with :func:`load_plan` / :func:`load_plan_file` (errors come as :class:`PlanError`
with every problem and its line), get a shipped plan by name with :func:`shipped_plan` (the
default is :func:`default_plan`), and ask a plan for ``plan.week(n, lang)``,
``plan.teaching_week(start, day)`` and friends.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from bot.plans.loader import PlanError, PlanIssue, dump_plan, load_plan, load_plan_file
from bot.plans.model import (
    Plan,
    Question,
    ResolvedOption,
    ResolvedQuestion,
    ResolvedWeek,
    Skill,
    Week,
)

DEFAULT_PLAN_RESOURCE = "default.yaml"
DEFAULT_PLAN_NAME = "standaard"
SHIPPED_PLANS = {
    DEFAULT_PLAN_NAME: DEFAULT_PLAN_RESOURCE,
    "niveau4": "niveau4.yaml",
    "bso": "bso.yaml",
    "eerste-jaar": "eerste-jaar.yaml",
}
"""The plans that come with mentorbot, by the name `cohort create --plan NAME` takes."""

__all__ = [
    "Plan",
    "PlanError",
    "PlanIssue",
    "Question",
    "ResolvedOption",
    "ResolvedQuestion",
    "ResolvedWeek",
    "Skill",
    "Week",
    "default_plan",
    "default_plan_text",
    "dump_plan",
    "load_plan",
    "load_plan_file",
    "shipped_plan",
    "shipped_plan_names",
    "shipped_plan_text",
]


def default_plan_text() -> str:
    """The YAML text of the shipped Dutch default plan."""
    return files("bot.plans").joinpath(DEFAULT_PLAN_RESOURCE).read_text(encoding="utf-8")


@cache
def default_plan() -> Plan:
    """The shipped Dutch default plan (parsed once; plans are immutable)."""
    return load_plan(default_plan_text(), source=DEFAULT_PLAN_RESOURCE)


def shipped_plan_names() -> list[str]:
    return list(SHIPPED_PLANS)


def shipped_plan_text(name: str) -> str:
    """The YAML text of shipped plan ``name``; KeyError for an unknown name."""
    resource = SHIPPED_PLANS[name]
    return files("bot.plans").joinpath(resource).read_text(encoding="utf-8")


@cache
def shipped_plan(name: str) -> Plan:
    """Shipped plan ``name``, parsed once; KeyError for an unknown name."""
    if name == DEFAULT_PLAN_NAME:
        return default_plan()
    return load_plan(shipped_plan_text(name), source=SHIPPED_PLANS[name])
