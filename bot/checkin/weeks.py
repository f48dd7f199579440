"""A student's reflection week: the round's plan week in the student's language, with this
student's agreement follow-ups asked last."""

from __future__ import annotations

from bot.checkin.agreement_questions import follow_up_questions
from bot.plans import ResolvedWeek
from bot.plans.store import plan_for
from storage.db import Session
from storage.records import CohortRecord, RoundRecord
from storage.repos import CohortRepo


async def _plan_week(
    session: Session, cohort_id: int, number: int, lang: str, cohort: CohortRecord | None
) -> ResolvedWeek:
    """The plan week; the plan (parsed once per YAML text) keeps its resolved weeks itself, so
    no cache of our own here (a module-level one keyed by cohort id mixed up databases)."""
    cohort = cohort or await CohortRepo(session).get(cohort_id)
    assert cohort is not None and cohort.id == cohort_id
    return (await plan_for(session, cohort)).week(number, lang)


async def reflection_week(
    session: Session,
    round_: RoundRecord,
    member_id: int,
    lang: str,
    cohort: CohortRecord | None = None,
    *,
    agreements: bool = True,
) -> ResolvedWeek:
    """The round's plan week in `lang` (the student's language), with this student's
    agreement follow-ups asked last. `cohort`: the round's, when the caller read it already
    (in the same transaction), so its plan version need not be read again; `agreements`
    False when the caller knows (same transaction) that the round asks about none."""
    week = await _plan_week(session, round_.cohort_id, round_.week, lang, cohort)
    if not agreements:
        return week
    extra = await follow_up_questions(session, member_id, round_.week, round_.id, lang)
    if not extra:
        return week
    return week.model_copy(update={"questions": [*week.questions, *extra]})
