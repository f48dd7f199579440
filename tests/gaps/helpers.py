"""Small builders for gap-rule tests: answers in, ``CohortAnswers`` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.gaps.rules import CohortAnswers, HelpRequest, RatingAnswer, ReflectionRound, StudentWords

Row = tuple[int, int, str, int]  # student, week, skill, rating


def answers(
    rows: Iterable[Row],
    *,
    helps: Iterable[tuple[int, int, str]] = (),
    words: Iterable[tuple[int, int, str]] = (),
    enrolled: Iterable[int] | None = None,
    skills: Mapping[int, tuple[str, ...]] | None = None,
    weeks: Iterable[int] | None = None,
) -> CohortAnswers:
    """A snapshot where each week's round asked the skills rated (or ``skills[week]``) that week,
    everyone in ``enrolled`` (default: every student seen) was enrolled, and a student who gave
    a rating or a help request that week responded."""
    rows = list(rows)
    helps = list(helps)
    seen = {r[0] for r in rows} | {h[0] for h in helps}
    pupils = frozenset(enrolled if enrolled is not None else seen)
    all_weeks = set(weeks or ()) | {r[1] for r in rows} | {h[1] for h in helps}
    all_weeks |= set(skills or {})
    rounds = []
    for week in sorted(all_weeks):
        asked = (skills or {}).get(week) or tuple(
            sorted({r[2] for r in rows if r[1] == week} | {h[2] for h in helps if h[1] == week})
        )
        came = frozenset(
            {r[0] for r in rows if r[1] == week} | {h[0] for h in helps if h[1] == week}
        )
        rounds.append(ReflectionRound(week, asked, pupils, came))
    return CohortAnswers(
        rounds=tuple(rounds),
        ratings=tuple(RatingAnswer(*r) for r in rows),
        helps=tuple(HelpRequest(*h) for h in helps),
        words=tuple(StudentWords(*w) for w in words),
    )


def series(student: int, skill: str, ratings: Iterable[int], every: int = 3) -> list[Row]:
    """One student's ratings of one skill, asked every ``every`` weeks from week 1."""
    return [(student, 1 + i * every, skill, r) for i, r in enumerate(ratings)]
