"""Werkbegeleiders who went quiet: three observation rounds in a row that they got and left
without a single tap. A digest line, never an alert: the workplace is busy, and the
team can ask the student to nudge them."""

from __future__ import annotations

from storage.db import Session
from storage.repos import MemberRepo
from storage.repos.answers_query import AnswersQuery
from storage.repos.observations import ObservationRepo
from storage.repos.rounds import RoundRepo

SILENT_ROUNDS = 3


async def silent_werkbegeleiders(session: Session, cohort_id: int, week: int) -> list[str]:
    """Names of active werkbegeleiders whose last three observation rounds before `week` (the
    digest's week: those rounds have had their reminder) went unanswered."""
    rounds = [r for r in await RoundRepo(session).of_cohort(cohort_id, "observation")
              if r.week < week and r.status in ("open", "closed")]  # fmt: skip
    if len(rounds) < SILENT_ROUNDS:
        return []
    ids = [r.id for r in rounds]
    week_of = {r.id: r.week for r in rounds}
    got: dict[int, list[int]] = {}
    for round_id, member_id, _done in await AnswersQuery(session).participation_rows(ids):
        got.setdefault(member_id, []).append(round_id)
    answered = await ObservationRepo(session).answered_rounds(ids)
    names = []
    for wb in await MemberRepo(session).in_cohort(cohort_id, "werkbegeleider", ("active",)):
        last = sorted(got.get(wb.id, []), key=lambda r: week_of[r])[-SILENT_ROUNDS:]
        if len(last) == SILENT_ROUNDS and not any((r, wb.id) in answered for r in last):
            names.append(wb.name)
    return sorted(names, key=str.casefold)
