"""Stored scenarios for the observer tests: cohorts with a small plan, students, rounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repos.rounds import AnswerRepo, RoundRepo

PLAN = """
name: Testplan
skills:
  - key: klimaat
    title: Zorgt voor een veilig pedagogisch klimaat
    short: Veilig klimaat
  - key: samenwerken
    title: Werkt samen met betrokkenen
    short: Samenwerken
default_week:
  expectations: "Doe je best."
  focus_skills: [klimaat, samenwerken]
  rate_focus_skills: true
  questions:
    - key: praktijk
      kind: text
      optional: true
      prompt: "Beschrijf een situatie."
"""

# Friday 4 September 2026, 14:00 in Amsterdam: ISO week 36.
START = datetime(2026, 9, 4, 12, 0, tzinfo=UTC)
NOW = START + timedelta(weeks=6)  # well after the rounds of the tests, inside the window


def week_time(week: int) -> datetime:
    return START + timedelta(weeks=week - 1)


def iso_week(week: int) -> tuple[int, int]:
    iso = week_time(week).date().isocalendar()
    return iso.year, iso.week


async def add_round(
    s: AsyncSession,
    cohort_id: int,
    week: int,
    ratings: dict[int, dict[str, int]],
    *,
    enrolled: list[int] | None = None,
    completed: list[int] | None = None,
    close: bool = True,
    texts: dict[int, str] | None = None,
    when: datetime | None = None,
) -> int:
    """A reflection round of `week` sent to `enrolled` (default: the raters) with these
    ratings; `completed` (default: the raters) finished it; closed unless `close` is False."""
    when = when or week_time(week)
    rounds = RoundRepo(s)
    round_, _ = await rounds.insert_if_absent(cohort_id, week, "reflection", when)
    await rounds.add_participants(round_.id, enrolled if enrolled is not None else list(ratings))
    answers = AnswerRepo(s)
    for member_id, by_skill in ratings.items():
        for skill, rating in by_skill.items():
            await answers.save(
                round_.id, member_id, f"rating-{skill}", kind="rating", skill=skill, now=when,
                rating=rating,
            )  # fmt: skip
    for member_id, text in (texts or {}).items():
        await answers.save(
            round_.id, member_id, "praktijk", kind="text", skill=None, now=when, text=text
        )
    for member_id in completed if completed is not None else list(ratings):
        await rounds.mark_completed(round_.id, member_id, when)
    if close:
        await rounds.close(round_.id, when + timedelta(days=6))
    return round_.id
