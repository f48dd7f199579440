"""A student's reflection week: the round's plan week, resolved once per plan version and
language, with this student's agreement follow-ups asked last."""

from __future__ import annotations

from bot.checkin.agreement_questions import follow_up_questions
from bot.plans import ResolvedWeek
from bot.plans.store import plan_for
from storage.db import Session
from storage.records import RoundRecord
from storage.repos import CohortRepo

# Resolved plan weeks by (cohort, plan version, week, language): a tap needs its round's week,
# and fetching and resolving the plan per tap was a good part of its cost. The plan version is
# part of the key, so a changed plan is read afresh (by every instance: the cohort row tells).
_WEEKS: dict[tuple[int, int, int, str], ResolvedWeek] = {}
_WEEKS_KEPT = 512


async def _plan_week(session: Session, cohort_id: int, number: int, lang: str) -> ResolvedWeek:
    cohort = await CohortRepo(session).get(cohort_id)
    assert cohort is not None
    key = (cohort.id, cohort.plan_version, number, lang)
    week = _WEEKS.get(key)
    if week is None:
        week = (await plan_for(session, cohort)).week(number, lang)
        if len(_WEEKS) >= _WEEKS_KEPT:
            _WEEKS.pop(next(iter(_WEEKS)))  # the oldest: a simple bound, rounds move on
        _WEEKS[key] = week
    return week


async def reflection_week(
    session: Session, round_: RoundRecord, member_id: int, lang: str
) -> ResolvedWeek:
    """The round's plan week in `lang` (the student's language), with this student's
    agreement follow-ups asked last."""
    week = await _plan_week(session, round_.cohort_id, round_.week, lang)
    extra = await follow_up_questions(session, member_id, round_.week, round_.id, lang)
    if not extra:
        return week
    return week.model_copy(update={"questions": [*week.questions, *extra]})
