"""Trends for the regiegroep, the figures: the report's data model and the aggregation over
stored cohort data and alerts. The anonymity rules are in the module doc of ``bot.trends``,
which re-exports everything public here; ``bot.trends.report`` renders and sends the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.gaps.cohort_data import CohortData, load_cohort_data, local_time
from bot.trends.effect import Effect, effect
from bot.trends.workplace import SignalLine, WorkplaceSkill, month_signals, workplace_view
from storage.db import Session
from storage.repos.alerts import AlertRepo

MIN_GROUP = 5  # observers see groups of at least five students only
RECENT_ROUNDS = 4  # rounds listed per cohort in the response section
WINDOW_WEEKS = 12  # calendar weeks of ratings and class gaps in the report
MAX_GAP_SKILLS = 5  # skills listed under recurring class gaps

WeekKey = tuple[int, int]  # (ISO year, ISO week)


@dataclass(frozen=True)
class RoundRate:
    """One closed reflection round of a cohort: completed / received, None when too small."""

    week: WeekKey
    done: int | None
    total: int | None

    @property
    def too_small(self) -> bool:
        return self.total is None


@dataclass(frozen=True)
class CohortTrend:
    name: str
    too_small: bool  # fewer than MIN_GROUP active students: nothing of it is shown
    recent: tuple[RoundRate, ...] = ()  # oldest first
    done: int | None = None  # over every closed round; None when too small
    total: int | None = None


@dataclass(frozen=True)
class GapSkill:
    """A skill found in recurring class gaps: in how many classes and rounds."""

    skill: str  # title
    cohorts: int
    rounds: int
    open_in: int  # classes where the gap is not resolved yet


@dataclass(frozen=True)
class TrendPoint:
    week: WeekKey
    mean: float
    students: int  # distinct students in the cell, at least MIN_GROUP


@dataclass(frozen=True)
class SkillSeries:
    skill: str  # title
    points: tuple[TrendPoint, ...]  # by week; weeks with too few students are absent


@dataclass(frozen=True)
class TrendsReport:
    generated_at: datetime
    cohorts: tuple[CohortTrend, ...]
    gaps: tuple[GapSkill, ...]
    weeks: tuple[WeekKey, ...]  # every week of the window with at least one shown cell
    series: tuple[SkillSeries, ...]
    hidden_cells: int  # (skill, week) cells left out for having fewer than MIN_GROUP students
    min_group: int = MIN_GROUP
    workplace: tuple[WorkplaceSkill, ...] = ()  # the werkbegeleiders' view per skill
    signals: tuple[SignalLine, ...] = ()  # the month's field signals (/signaal)
    effect: Effect = field(
        default_factory=lambda: Effect((), 0)
    )  # from alert to agreement to outcome (bot.trends.effect)

    @property
    def has_chart(self) -> bool:
        return bool(self.series)


# ----------------------------------------------------------------------------- aggregation


def _week_of(data: CohortData, moment: datetime) -> WeekKey:
    iso = local_time(data.cohort, moment).date().isocalendar()
    return iso.year, iso.week


def _cohort_trend(data: CohortData) -> CohortTrend:
    active = sum(1 for m in data.students.values() if m.is_active)
    if active < MIN_GROUP:
        return CohortTrend(data.cohort.name, too_small=True)
    closed = [r for r in data.rounds if r.status == "closed"]
    rates: list[RoundRate] = []
    done_all = total_all = 0
    everyone: set[int] = set()
    for rnd in closed:
        done = data.completed.get(rnd.id, set())
        got = data.enrolled.get(rnd.id, set()) | done
        everyone |= got
        done_all += len(done)
        total_all += len(got)
        if len(got) >= MIN_GROUP:
            rates.append(RoundRate(_week_of(data, rnd.due_at), len(done), len(got)))
        else:
            rates.append(RoundRate(_week_of(data, rnd.due_at), None, None))
    if len(everyone) < MIN_GROUP:
        return CohortTrend(data.cohort.name, False, tuple(rates[-RECENT_ROUNDS:]))
    return CohortTrend(data.cohort.name, False, tuple(rates[-RECENT_ROUNDS:]), done_all, total_all)


def _titles(datas: Iterable[CohortData]) -> tuple[dict[str, str], list[str]]:
    """Skill key -> title (short title when the plan has one), and the plans' skill order."""
    titles: dict[str, str] = {}
    order: list[str] = []
    for data in datas:
        for skill in data.plan.skills:
            if skill.key not in titles:
                titles[skill.key] = skill.short or skill.title
                order.append(skill.key)
    return titles, order


def _series(
    datas: Sequence[CohortData], since: datetime, now: datetime, order: list[str]
) -> tuple[list[tuple[str, list[TrendPoint]]], list[WeekKey], int]:
    """(skill key, points) per skill, the weeks shown, and how many cells were hidden."""
    # (skill, week) -> student -> their ratings (one student weighs once per cell)
    cells: dict[tuple[str, WeekKey], dict[int, list[int]]] = {}
    for data in datas:
        week_of = {
            r.id: _week_of(data, r.due_at)
            for r in data.rounds
            if r.status == "closed" and since <= r.due_at <= now
        }
        for a in data.answers:
            week = week_of.get(a.round_id)
            if week is None or a.skipped or a.kind != "rating" or a.rating is None or not a.skill:
                continue
            cells.setdefault((a.skill, week), {}).setdefault(a.member_id, []).append(a.rating)
    shown: dict[str, list[TrendPoint]] = {}
    hidden = 0
    for (skill, week), by_student in cells.items():
        if len(by_student) < MIN_GROUP:
            hidden += 1
            continue
        means = [sum(r) / len(r) for r in by_student.values()]
        shown.setdefault(skill, []).append(
            TrendPoint(week, sum(means) / len(means), len(by_student))
        )
    keys = [k for k in order if k in shown] + sorted(set(shown) - set(order))
    series = [(k, sorted(shown[k], key=lambda p: p.week)) for k in keys]
    weeks = sorted({p.week for _, points in series for p in points})
    return series, weeks, hidden


async def _class_gaps(
    session: Session, cohort_ids: list[int], since: datetime, titles: dict[str, str]
) -> list[GapSkill]:
    """Skills of class_gap alerts raised, open or resolved in the window, most frequent first.

    Only the cohort, skill, status and the evidence's week list are read: never a member."""
    cohorts: dict[str, set[int]] = {}
    rounds: dict[str, set[tuple[int, int]]] = {}
    still_open: dict[str, set[int]] = {}
    for gap in await AlertRepo(session).class_gaps(cohort_ids, since):
        cohorts.setdefault(gap.skill, set()).add(gap.cohort_id)
        rounds.setdefault(gap.skill, set()).update((gap.cohort_id, w) for w in gap.weeks)
        if gap.is_open:
            still_open.setdefault(gap.skill, set()).add(gap.cohort_id)
    found = [
        GapSkill(
            titles.get(skill, skill),
            len(cohorts[skill]),
            len(rounds.get(skill, ())),
            len(still_open.get(skill, ())),
        )
        for skill in cohorts
    ]
    found.sort(key=lambda g: (-g.cohorts, -g.rounds, -g.open_in, g.skill.casefold()))
    return found[:MAX_GAP_SKILLS]


async def trends(session: Session, cohort_ids: Iterable[int], now: datetime) -> TrendsReport:
    """The trends report over these cohorts at `now` (see the module doc for the rules)."""
    datas: list[CohortData] = []
    for cohort_id in dict.fromkeys(cohort_ids):
        data = await load_cohort_data(session, cohort_id)
        if data is not None:
            datas.append(data)
    datas.sort(key=lambda d: d.cohort.name.casefold())
    cohorts = [_cohort_trend(d) for d in datas]
    shown = [d for d, c in zip(datas, cohorts, strict=True) if not c.too_small]
    titles, order = _titles(shown or datas)
    since = now - timedelta(weeks=WINDOW_WEEKS)
    raw, weeks, hidden = _series(shown, since, now, order)
    series = tuple(SkillSeries(titles.get(k, k), tuple(points)) for k, points in raw)
    gaps = await _class_gaps(session, [d.cohort.id for d in shown], since, titles)
    loop = await effect(session, [d.cohort.id for d in shown], since, titles, MIN_GROUP)
    workplace = workplace_view(shown, since, titles, MIN_GROUP)
    signals = await month_signals(session, [d.cohort.id for d in datas], now, titles)
    return TrendsReport(now, tuple(cohorts), tuple(gaps), tuple(weeks), series, hidden,
                        effect=loop, workplace=workplace, signals=signals)  # fmt: skip
