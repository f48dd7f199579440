"""A cohort's reflection data as the gap rules see it (the snapshot), its rule settings, and
the small helpers that read it: skill titles, local time, the skills × weeks means. No Telegram."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.charts.matrix import Matrix
from bot.gaps.rules import (
    CohortAnswers,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    ReflectionRound,
    WorkplaceObservation,
)
from bot.gaps.rules import StudentWords as Words
from bot.plans import Plan
from bot.plans.store import plan_for
from storage.db import Session
from storage.records import (
    AnswerRecord,
    AnswerRow,
    CohortRecord,
    MemberRecord,
    ObservationRecord,
    RoundRecord,
    StoredAnswer,
)
from storage.repos import CohortRepo, MemberRepo
from storage.repos.answers_query import AnswersQuery
from storage.repos.observations import NOTE_SKILL, ObservationRepo
from storage.repos.rounds import RoundRepo

log = logging.getLogger(__name__)

COUNTED_STATUSES = ("open", "closed")  # a skipped round asked nothing


def gap_settings_of(cohort: CohortRecord) -> GapSettings:
    """The cohort's rule settings: the known keys of `gap_settings`, defaults for the rest."""
    known = {k: v for k, v in cohort.gap_settings.items() if k in GapSettings.model_fields}
    try:
        return GapSettings(**known)
    except ValidationError:
        log.warning("cohort %s has invalid gap settings; using the defaults", cohort.id)
        return GapSettings()


def skill_title(plan: Plan, key: str | None) -> str:
    if key is None:
        return ""
    try:
        return plan.skill(key).title
    except KeyError:
        return key


def local_time(cohort: CohortRecord, moment: datetime) -> datetime:
    try:
        zone = ZoneInfo(cohort.timezone)
    except Exception:
        zone = ZoneInfo("Europe/Amsterdam")
    return moment.astimezone(zone)


@dataclass(frozen=True)
class CohortData:
    """A cohort's reflection rounds and answers, loaded once for rules, views and charts."""

    cohort: CohortRecord
    plan: Plan
    rounds: list[RoundRecord]  # reflection rounds that count, by week
    answers: list[StoredAnswer]
    completed: dict[int, set[int]]  # round id -> member ids who completed it
    enrolled: dict[int, set[int]]  # round id -> member ids who got it
    students: dict[int, MemberRecord]  # every student of the cohort (any status)
    observations: list[ObservationRecord] = field(default_factory=list)  # the workplace's view

    def round_index(self, week: int | None) -> int:
        """Index of the latest counted round with a week at most `week` (-1 when none)."""
        if week is None:
            return -1
        return sum(1 for r in self.rounds if r.week <= week) - 1

    def name(self, member_id: int | None) -> str:
        student = self.students.get(member_id or -1)
        return student.name if student is not None else "?"

    def cohort_answers(self) -> CohortAnswers:
        """The snapshot for `bot.gaps.rules.evaluate`.

        An open round counts only with the students who completed it (as enrolled and as
        respondents), so nobody looks silent while a round is still running."""
        active = {m.id for m in self.students.values() if m.status == "active"}
        part = snapshot_part(self.plan, self.rounds, self.answers, self.completed,
                             self.enrolled, active)  # fmt: skip
        return CohortAnswers(
            tuple(part.rounds[r.id] for r in self.rounds),
            tuple(part.ratings),
            tuple(part.helps),
            tuple(part.words),
            workplace_view(self.observations),
        )

    def asked_skills(self, week: int) -> tuple[str, ...]:
        return asked_skills(self.plan, week)

    def help_skill(self, week: int, question_key: str, choice: str) -> str | None:
        return help_skill(self.plan, week, question_key, choice)


def asked_skills(plan: Plan, week: int) -> tuple[str, ...]:
    resolved = plan.week(week)
    skills = [q.skill for q in resolved.questions if q.kind == "rating" and q.skill]
    return tuple(dict.fromkeys(skills))


def help_skill(plan: Plan, week: int, question_key: str, choice: str) -> str | None:
    try:
        question = plan.week(week).question(question_key)
    except KeyError:
        return None
    return question.low_skill(choice) if question.help else None


@dataclass
class SnapshotPart:
    """The gap snapshot of some of a cohort's rounds (see `CohortData.cohort_answers`)."""

    rounds: dict[int, ReflectionRound]  # round id -> what the rules see of it
    ratings: list[RatingAnswer]
    helps: list[HelpRequest]
    words: list[Words]


def snapshot_part(
    plan: Plan,
    rounds: Sequence[RoundRecord],
    answers: Iterable[AnswerRecord | AnswerRow],
    completed: dict[int, set[int]],
    enrolled: dict[int, set[int]],
    active: set[int],
) -> SnapshotPart:
    """What the rules see of `rounds`: each round depends only on its own answers and
    participations, so parts of a cohort can be built (and kept) separately."""
    by_round = {r.id: r for r in rounds}
    responded: dict[int, set[int]] = {r.id: set(completed.get(r.id, ())) for r in rounds}
    ratings: list[RatingAnswer] = []
    helps: list[HelpRequest] = []
    words: list[Words] = []
    for a in answers:
        rnd = by_round.get(a.round_id)
        if rnd is None or a.skipped:
            continue
        if rnd.is_open and a.member_id not in responded[rnd.id]:
            continue
        responded[rnd.id].add(a.member_id)
        if a.kind == "rating" and a.rating is not None and a.skill:
            ratings.append(RatingAnswer(a.member_id, rnd.week, a.skill, a.rating))
        elif a.kind == "choice" and a.choice is not None:
            skill = help_skill(plan, rnd.week, a.question_key, a.choice)
            if skill is not None:
                helps.append(HelpRequest(a.member_id, rnd.week, skill))
        elif a.kind == "text" and a.text and a.text.strip():
            words.append(Words(a.member_id, rnd.week, a.text.strip()))
    views: dict[int, ReflectionRound] = {}
    for rnd in rounds:
        if rnd.is_open:
            members = frozenset(responded[rnd.id])
        else:
            got = enrolled.get(rnd.id, set()) | responded[rnd.id]
            members = frozenset(m for m in got if m in active or m in responded[rnd.id])
        views[rnd.id] = ReflectionRound(
            rnd.week, asked_skills(plan, rnd.week), members, frozenset(responded[rnd.id])
        )
    return SnapshotPart(views, ratings, helps, words)


async def load_cohort_data(session: Session, cohort_id: int) -> CohortData | None:
    cohort = await CohortRepo(session).get(cohort_id)
    if cohort is None:
        return None
    plan = await plan_for(session, cohort)
    rounds = [
        r
        for r in await RoundRepo(session).of_cohort(cohort_id, "reflection")
        if r.status in COUNTED_STATUSES
    ]
    query = AnswersQuery(session)
    answers = [a for a in await query.answers(cohort_id) if not a.question_key.startswith("__")]
    completed: dict[int, set[int]] = {}
    enrolled: dict[int, set[int]] = {}
    for p in await query.participations([r.id for r in rounds]):
        enrolled.setdefault(p.round_id, set()).add(p.member_id)
        if p.completed_at is not None:
            completed.setdefault(p.round_id, set()).add(p.member_id)
    students = {m.id: m for m in await MemberRepo(session).in_cohort(cohort_id, "student")}
    observations = await ObservationRepo(session).of_cohort(cohort_id)
    return CohortData(cohort, plan, rounds, answers, completed, enrolled, students, observations)


def workplace_view(observations: Iterable[ObservationRecord]) -> tuple[WorkplaceObservation, ...]:
    """The werkbegeleiders' taps as the rules see them: "niet gezien" and the optional line
    are no evidence and are left out. A tap counts from the moment it is stored (it may still
    change until its round closes, like a student's answer)."""
    return tuple(
        WorkplaceObservation(o.student_id, o.week, o.skill, o.level, o.werkbegeleider_id)
        for o in observations
        if o.level is not None and o.skill != NOTE_SKILL
    )


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def jsonable(value: Any) -> Any:
    """Make dataclass evidence storable as JSON (tuples to lists)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def skill_week_means(data: CohortData, last_weeks: int = 12, lang: str = "nl") -> Matrix:
    sums: dict[tuple[str, int], list[int]] = {}
    for a in data.answers:
        if a.kind == "rating" and a.rating is not None and a.skill and not a.skipped:
            sums.setdefault((a.skill, a.week), []).append(a.rating)
    weeks = sorted({w for _, w in sums})[-last_weeks:]
    keys = [s.key for s in data.plan.skills if any((s.key, w) in sums for w in weeks)]
    keys += sorted({k for k, w in sums if w in weeks} - set(keys))
    values = [
        [(sum(sums[(k, w)]) / len(sums[(k, w)])) if (k, w) in sums else None for w in weeks]
        for k in keys
    ]
    titles: list[str] = []
    for k in keys:
        try:
            titles.append(data.plan.skill(k).label_in(lang))
        except KeyError:
            titles.append(k)
    return Matrix(titles, weeks, values)
