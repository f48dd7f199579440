"""Plans: what a cohort is asked each week (SPEC §3 "The plan").

Load a plan with :func:`load_plan` / :func:`load_plan_file` (errors come as :class:`PlanError`
with every problem and its line), get the shipped Dutch plan with :func:`default_plan`, and ask
a plan for ``plan.week(n)``, ``plan.teaching_week(start, day)`` and friends.
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
]


def default_plan_text() -> str:
    """The YAML text of the shipped Dutch default plan."""
    return files("bot.plans").joinpath(DEFAULT_PLAN_RESOURCE).read_text(encoding="utf-8")


@cache
def default_plan() -> Plan:
    """The shipped Dutch default plan (parsed once; plans are immutable)."""
    return load_plan(default_plan_text(), source=DEFAULT_PLAN_RESOURCE)
