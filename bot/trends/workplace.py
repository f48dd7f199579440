"""Trends for the regiegroep, the workplace's side: the werkbegeleiders' view per skill across
classes beside the students' own rating (only skills observed for at least MIN_GROUP
students), and the month's field signals (/signaal) without who sent them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.gaps.cohort_data import CohortData
from storage.db import Session
from storage.repos.observations import NOTE_SKILL, SignalRepo

SIGNAL_DAYS = 31  # "the month's signals": the month before the report
MAX_SIGNALS = 10


@dataclass(frozen=True)
class WorkplaceSkill:
    skill: str  # title
    students: int  # distinct students observed (at least MIN_GROUP)
    level: float  # mean observation, 0 nooit … 3 goed (one student weighs once)
    own: float | None  # the same students' mean self-rating 1–5 in the window


@dataclass(frozen=True)
class SignalLine:
    text: str
    skill: str | None  # title of the skill it names


def workplace_view(
    datas: Sequence[CohortData], since: datetime, titles: dict[str, str], min_group: int
) -> tuple[WorkplaceSkill, ...]:
    """Per skill over the window: the workplace's mean beside the students' own mean."""
    levels: dict[str, dict[tuple[int, int], list[int]]] = {}
    ratings: dict[tuple[int, int, str], list[int]] = {}
    for data in datas:
        for o in data.observations:
            if o.level is not None and o.skill != NOTE_SKILL and o.answered_at >= since:
                key = (data.cohort.id, o.student_id)
                levels.setdefault(o.skill, {}).setdefault(key, []).append(o.level)
        for a in data.answers:
            rated = a.kind == "rating" and a.rating is not None and a.skill and not a.skipped
            if rated and a.skill and a.rating is not None and a.answered_at >= since:
                ratings.setdefault((data.cohort.id, a.member_id, a.skill), []).append(a.rating)
    found = []
    for skill, by_student in levels.items():
        if len(by_student) < min_group:
            continue
        level = sum(sum(v) / len(v) for v in by_student.values()) / len(by_student)
        own = [sum(r) / len(r) for (c, s) in by_student if (r := ratings.get((c, s, skill)))]
        mean_own = sum(own) / len(own) if len(own) >= min_group else None
        found.append(WorkplaceSkill(titles.get(skill, skill), len(by_student), level, mean_own))
    return tuple(sorted(found, key=lambda w: (w.level, w.skill.casefold())))


async def month_signals(
    session: Session, cohort_ids: list[int], now: datetime, titles: dict[str, str]
) -> tuple[SignalLine, ...]:
    """The field signals of the last month in these classes, newest first, without senders."""
    since = now - timedelta(days=SIGNAL_DAYS)
    signals = await SignalRepo(session).between(since, now + timedelta(seconds=1), cohort_ids)
    lines = [
        SignalLine(s.text, titles.get(s.skill, s.skill) if s.skill else None)
        for s in reversed(signals)
    ]
    return tuple(lines[:MAX_SIGNALS])
