"""Building stored scenarios for the mentor tests: a small plan, students, weekly answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repos.rounds import AnswerRepo, RoundRepo

PLAN = """
name: Testplan
skills:
  - key: klimaat
    title: Zorgt voor een veilig pedagogisch klimaat
  - key: samenwerken
    title: Werkt samen met betrokkenen
default_week:
  expectations: "Doe je best."
  focus_skills: [klimaat, samenwerken]
  rate_focus_skills: true
  questions:
    - key: praktijk
      kind: text
      optional: true
      prompt: "Beschrijf een situatie."
    - key: hulp
      kind: choice
      help: true
      optional: true
      prompt: "Waar wil je hulp bij?"
      options_from: focus_skills
"""

START = datetime(2026, 9, 4, 12, 0, tzinfo=UTC)


def week_time(week: int) -> datetime:
    return START + timedelta(weeks=week - 1)


async def add_week(
    s: AsyncSession,
    cohort_id: int,
    week: int,
    ratings: dict[int, dict[str, int]],
    *,
    texts: dict[int, str] | None = None,
    helps: dict[int, str] | None = None,
    enrolled: list[int] | None = None,
) -> int:
    """A reflection round of `week` (earlier ones closed) with these answers, all completed."""
    now = week_time(week)
    rounds = RoundRepo(s)
    round_, _ = await rounds.insert_if_absent(cohort_id, week, "reflection", now)
    await rounds.close_others(cohort_id, "reflection", round_.id, now)
    await rounds.add_participants(round_.id, enrolled or list(ratings))
    answers = AnswerRepo(s)
    for member_id, by_skill in ratings.items():
        for skill, rating in by_skill.items():
            await answers.save(
                round_.id, member_id, f"rating-{skill}", kind="rating", skill=skill, now=now,
                rating=rating,
            )  # fmt: skip
        text = (texts or {}).get(member_id)
        if text:
            await answers.save(
                round_.id, member_id, "praktijk", kind="text", skill=None, now=now, text=text
            )
        help_skill = (helps or {}).get(member_id)
        if help_skill:
            await answers.save(
                round_.id, member_id, "hulp", kind="choice", skill=None, now=now,
                choice=help_skill,
            )  # fmt: skip
        await rounds.mark_completed(round_.id, member_id, now)
    return round_.id
