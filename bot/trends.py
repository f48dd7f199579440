"""Trends for the regiegroep (SPEC §2, §9): aggregated figures over the cohorts an observer
follows, never a name and never a figure about fewer than five students.

What the report holds, and the rules that keep it anonymous:

- **Only closed reflection rounds.** An open round's answers can still change, and a figure that
  moves while a round runs lets a reader tell one late answer from the rest; a closed round's
  figures stay put.
- **Response rate per cohort**: for the last few rounds and overall. A cohort with fewer than
  ``MIN_GROUP`` active students is listed as "too small to show" and left out of *every* figure
  (also the pooled ones, so that adding or dropping it cannot be read off a change). A round
  that went to fewer than ``MIN_GROUP`` students is shown as too small.
- **Skills in recurring class gaps**, from the alerts table (kind ``class_gap`` only; the
  per-student parts of their evidence are never read): per skill how many classes and rounds.
- **Mean self-rating per skill per calendar week**, pooled over the observed cohorts. A cell
  (skill, week) is left out unless at least ``MIN_GROUP`` distinct students rated that skill in
  that week. Each student weighs once per cell. Calendar (ISO) weeks of the round's due date in
  the cohort's time zone are the common axis: classes start on different dates, so their plan
  weeks do not line up.

The report carries cohort names, skill titles, weeks and numbers only: no member id, no name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Outgoing, Queued, queue
from bot.mentor_service import CohortData, load_cohort_data, local_time
from bot.texts import normalise_language, t
from storage.models import Alert, OutboxMessage
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo

MIN_GROUP = 5  # SPEC §2/§9: observers see groups of at least five students only
RECENT_ROUNDS = 4  # rounds listed per cohort in the response section
WINDOW_WEEKS = 12  # calendar weeks of ratings and class gaps in the report
MAX_GAP_SKILLS = 5  # skills listed under recurring class gaps
TEXT_WEEKS = 4  # weeks per skill in the text (the chart shows the whole window)
TEXT_LIMIT = 4000
REPORT_KIND = "report"  # outbox kind of the monthly report
REPORT_TIMEZONE = "Europe/Amsterdam"  # the month of the dedupe key is taken here

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
    session: AsyncSession, cohort_ids: list[int], since: datetime, titles: dict[str, str]
) -> list[GapSkill]:
    """Skills of class_gap alerts raised, open or resolved in the window, most frequent first.

    Only the cohort, skill, status and the evidence's week list are read: never a member."""
    if not cohort_ids:
        return []
    rows = await session.execute(
        select(Alert.cohort_id, Alert.skill, Alert.open_key, Alert.evidence).where(
            Alert.cohort_id.in_(cohort_ids),
            Alert.kind == "class_gap",
            Alert.skill.is_not(None),
            or_(
                Alert.open_key.is_not(None),
                Alert.raised_at >= since,
                Alert.resolved_at >= since,
            ),
        )
    )
    cohorts: dict[str, set[int]] = {}
    rounds: dict[str, set[tuple[int, int]]] = {}
    still_open: dict[str, set[int]] = {}
    for cohort_id, skill, open_key, evidence in rows:
        cohorts.setdefault(skill, set()).add(cohort_id)
        weeks = (evidence or {}).get("weeks") or []
        rounds.setdefault(skill, set()).update(
            (cohort_id, int(w)) for w in weeks if isinstance(w, int)
        )
        if open_key is not None:
            still_open.setdefault(skill, set()).add(cohort_id)
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


async def trends(session: AsyncSession, cohort_ids: Iterable[int], now: datetime) -> TrendsReport:
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
    return TrendsReport(now, tuple(cohorts), tuple(gaps), tuple(weeks), series, hidden)


# ----------------------------------------------------------------------------- rendering


def _number(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "nl" else text


def _percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


def _rate(rate: RoundRate, lang: str) -> str:
    week = rate.week[1]
    if rate.done is None or rate.total is None:
        return t("observer.round_too_small", lang, week=week)
    return t(
        "observer.round_rate",
        lang,
        week=week,
        percent=_percent(rate.done, rate.total),
        done=rate.done,
        total=rate.total,
    )


def _cohort_line(cohort: CohortTrend, lang: str) -> str:
    if cohort.too_small:
        return t("observer.cohort_too_small", lang, cohort=cohort.name, min=MIN_GROUP)
    if not cohort.recent:
        return t("observer.cohort_no_rounds", lang, cohort=cohort.name)
    recent = " · ".join(_rate(r, lang) for r in cohort.recent)
    if cohort.done is None or cohort.total is None:
        return t("observer.cohort_recent_only", lang, cohort=cohort.name, recent=recent)
    return t(
        "observer.cohort_rate",
        lang,
        cohort=cohort.name,
        percent=_percent(cohort.done, cohort.total),
        done=cohort.done,
        total=cohort.total,
        recent=recent,
    )


def render_trends(report: TrendsReport, lang: str = "nl") -> str:
    """The report as plain text in Dutch (default) or English."""
    lang = normalise_language(lang)
    local = report.generated_at.astimezone(ZoneInfo(REPORT_TIMEZONE))
    date = local.strftime("%d-%m-%Y" if lang == "nl" else "%Y-%m-%d")
    lines = [
        t("observer.header", lang, date=date),
        t("observer.rules", lang, min=report.min_group),
        "",
        t("observer.response_header", lang),
    ]
    if report.cohorts:
        lines += [_cohort_line(c, lang) for c in report.cohorts]
    else:
        lines.append(t("observer.no_cohorts", lang))
    lines += ["", t("observer.gaps_header", lang, weeks=WINDOW_WEEKS)]
    if report.gaps:
        for gap in report.gaps:
            key = "observer.gap_line_open" if gap.open_in else "observer.gap_line"
            lines.append(
                t(key, lang, skill=gap.skill, cohorts=gap.cohorts, rounds=gap.rounds,
                  open=gap.open_in)
            )  # fmt: skip
    else:
        lines.append(t("observer.gaps_none", lang))
    lines += ["", t("observer.ratings_header", lang, weeks=WINDOW_WEEKS)]
    if report.series:
        for series in report.series:
            points = " · ".join(
                t("observer.point", lang, week=p.week[1], mean=_number(p.mean, lang))
                for p in series.points[-TEXT_WEEKS:]
            )
            lines.append(t("observer.skill_line", lang, skill=series.skill, points=points))
    else:
        lines.append(t("observer.ratings_none", lang, min=report.min_group))
    if report.hidden_cells:
        lines.append(t("observer.hidden", lang, min=report.min_group))
    text = "\n".join(lines)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def chart_caption(report: TrendsReport, lang: str = "nl") -> str:
    return t("observer.chart_caption", normalise_language(lang), min=report.min_group)


def trend_chart_png(report: TrendsReport, lang: str = "nl") -> bytes:
    """Line chart of the mean rating per skill over the weeks (PNG, about 1000×700 px)."""
    from bot import charts_trends  # matplotlib is loaded on first use, not at start-up

    return charts_trends.trend_lines_png(report, normalise_language(lang))


# ----------------------------------------------------------------------------- monthly


def report_month(now: datetime, timezone: str = REPORT_TIMEZONE) -> str:
    """`YYYY-MM` of `now` in the report's time zone (a run just after midnight on the 1st
    belongs to the new month, though it is still the old one in UTC)."""
    return f"{now.astimezone(ZoneInfo(timezone)):%Y-%m}"


def report_dedupe_key(now: datetime, member_id: int, n: int) -> str:
    """`observer-report:{YYYY-MM}:{member_id}:{n}`: message n of one observer's report of
    the month; `member_id` is the lowest id of the person's active observer memberships."""
    return f"observer-report:{report_month(now)}:{member_id}:{n}"


def is_report_day(day: date) -> bool:
    """Whether this (local) date is the first Monday of its month: the monthly report's day."""
    return day.weekday() == 0 and day.day <= 7


@dataclass(frozen=True)
class _Reader:
    """One person who observes: their chat, language, cohorts and key membership."""

    member_id: int  # the lowest id of their active observer memberships (stable key)
    chat_id: int
    telegram_user_id: int | None
    cohort_ids: tuple[int, ...]


async def _readers(session: AsyncSession) -> list[_Reader]:
    by_person: dict[object, list[tuple[int, int, int | None, int]]] = {}
    members = MemberRepo(session)
    for cohort in await CohortRepo(session).all():
        for m in await members.in_cohort(cohort.id, "observer", statuses=("active",)):
            if m.chat_id is None:
                continue
            person = m.telegram_user_id if m.telegram_user_id is not None else ("chat", m.chat_id)
            by_person.setdefault(person, []).append(
                (m.id, m.chat_id, m.telegram_user_id, m.cohort_id)
            )
    readers = []
    for rows in by_person.values():
        rows.sort()
        first = rows[0]
        readers.append(
            _Reader(first[0], first[1], first[2], tuple(dict.fromkeys(r[3] for r in rows)))
        )
    readers.sort(key=lambda r: r.member_id)
    return readers


async def _report_messages(
    session: AsyncSession, reader: _Reader, now: datetime
) -> tuple[str, list[Outgoing]]:
    lang = normalise_language(
        await UserSettingsRepo(session).language(reader.telegram_user_id)
        if reader.telegram_user_id is not None
        else None
    )
    report = await trends(session, reader.cohort_ids, now)
    text = t("observer.monthly_intro", lang) + "\n\n" + render_trends(report, lang)
    messages = [Outgoing(text[:TEXT_LIMIT])]
    if report.has_chart:
        png = await asyncio.to_thread(trend_chart_png, report, lang)
        messages.append(Outgoing(chart_caption(report, lang), photo=png))
    return lang, messages


async def monthly_reports(session: AsyncSession, now: datetime) -> list[tuple[int, Outgoing]]:
    """(chat_id, message) for every active observer: their cohorts' trends, text then chart.

    A person observing several cohorts gets one report over all of them."""
    out: list[tuple[int, Outgoing]] = []
    for reader in await _readers(session):
        _lang, messages = await _report_messages(session, reader, now)
        out += [(reader.chat_id, m) for m in messages]
    return out


async def monthly_report_items(session: AsyncSession, now: datetime) -> list[Queued]:
    """The monthly reports as outbox items with dedupe keys (see :func:`report_dedupe_key`)."""
    return await _items(session, await _readers(session), now)


async def _items(session: AsyncSession, readers: list[_Reader], now: datetime) -> list[Queued]:
    items: list[Queued] = []
    for reader in readers:
        _lang, messages = await _report_messages(session, reader, now)
        items += [
            Queued(
                report_dedupe_key(now, reader.member_id, n),
                reader.chat_id,
                REPORT_KIND,
                message,
                cohort_id=None,
                member_id=reader.member_id,
            )
            for n, message in enumerate(messages)
        ]
    return items


async def queue_monthly_reports(session: AsyncSession, now: datetime) -> int:
    """Queue this month's report to every active observer; idempotent per month (the dedupe
    key holds the month), so calling it twice, or from two instances, queues it once.
    Observers whose report of this month is queued already are not computed again.
    Returns the rows added."""
    readers = await _readers(session)
    firsts = [report_dedupe_key(now, r.member_id, 0) for r in readers]
    done = (
        set(
            await session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(firsts))
            )
        )
        if firsts
        else set()
    )
    items = await _items(
        session, [r for r in readers if report_dedupe_key(now, r.member_id, 0) not in done], now
    )
    return await queue(session, items, now)
