"""The workplace's view as others read it: who a werkbegeleider supervises, and the short
letters of the scale for the mentor team's tables (N O V G, and - for niet gezien)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Session
from storage.records import MemberRecord, SupervisionRecord
from storage.repos import MemberRepo
from storage.repos.answers_query import AnswersQuery
from storage.repos.observations import ObservationRepo, SupervisionRepo
from storage.repos.rounds import RoundRepo

LETTERS = ("N", "O", "V", "G")  # nooit, oefenen, voldoende, goed
UNSEEN_LETTER = "-"


def letter(level: int | None) -> str:
    return UNSEEN_LETTER if level is None else LETTERS[level]


async def supervised(
    session: Session, werkbegeleider_id: int
) -> list[tuple[SupervisionRecord, MemberRecord]]:
    """The students this werkbegeleider observes now, with their link."""
    members = MemberRepo(session)
    result = []
    for link in await SupervisionRepo(session).of_werkbegeleider(werkbegeleider_id):
        student = await members.get(link.student_id)
        if student is not None:
            result.append((link, student))
    return result


@dataclass(frozen=True)
class WorkplaceResponse:
    """The latest observation round: how many werkbegeleiders got it and how many tapped."""

    week: int
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


async def workplace_response(session: Session, cohort_id: int) -> WorkplaceResponse | None:
    """The observation response of the latest observation round (None before the first)."""
    rounds = [
        r
        for r in await RoundRepo(session).of_cohort(cohort_id, "observation")
        if r.status != "skipped"
    ]
    if not rounds:
        return None
    latest = max(rounds, key=lambda r: r.week)
    got = {m for _r, m, _done in await AnswersQuery(session).participation_rows([latest.id])}
    answered = {w for _r, w in await ObservationRepo(session).answered_rounds([latest.id])}
    return WorkplaceResponse(latest.week, len(got & answered), len(got))
