"""The workplace's view as others read it: who a werkbegeleider supervises, and the short
letters of the scale for the mentor team's tables (N O V G, and - for niet gezien)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.records import MemberRecord, SupervisionRecord
from storage.repos import MemberRepo
from storage.repos.observations import SupervisionRepo

LETTERS = ("N", "O", "V", "G")  # nooit, oefenen, voldoende, goed
UNSEEN_LETTER = "-"


def letter(level: int | None) -> str:
    return UNSEEN_LETTER if level is None else LETTERS[level]


async def supervised(
    session: AsyncSession, werkbegeleider_id: int
) -> list[tuple[SupervisionRecord, MemberRecord]]:
    """The students this werkbegeleider observes now, with their link."""
    members = MemberRepo(session)
    result = []
    for link in await SupervisionRepo(session).of_werkbegeleider(werkbegeleider_id):
        student = await members.get(link.student_id)
        if student is not None:
            result.append((link, student))
    return result
