"""Trends for the regiegroep, the report: the text (Dutch or English), the chart, and the
monthly report queued to every active observer. The figures come from ``bot.trends.data``;
``bot.trends`` re-exports everything public here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.outbox.queue import Outgoing, Queued, queue
from bot.texts import normalise_language, t
from bot.trends.data import (
    MIN_GROUP,
    WINDOW_WEEKS,
    CohortTrend,
    RoundRate,
    TrendsReport,
    trends,
)
from storage.db import Session
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.outbox import OutboxRepo

TEXT_WEEKS = 4  # weeks per skill in the text (the chart shows the whole window)
TEXT_LIMIT = 4000
REPORT_KIND = "report"  # outbox kind of the monthly report
REPORT_TIMEZONE = "Europe/Amsterdam"  # the month of the dedupe key is taken here


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
    lines += _workplace_lines(report, lang)
    lines += _effect_lines(report, lang)
    text = "\n".join(lines)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _workplace_lines(report: TrendsReport, lang: str) -> list[str]:
    """The workplace's view beside the self-ratings, and the month's field signals."""
    lines = []
    if report.workplace:
        lines += ["", t("observe.trends_workplace_header", lang, weeks=WINDOW_WEEKS)]
        for w in report.workplace:
            word = t(f"observe.level.{LEVEL_KEYS[min(3, round(w.level))]}", lang).lower()
            own = _number(w.own, lang) if w.own is not None else "–"
            lines.append(t("observe.trends_workplace_line", lang, skill=w.skill, word=word,
                           level=_number(w.level, lang), own=own, students=w.students))  # fmt: skip
    if report.signals:
        lines += ["", t("observe.trends_signals_header", lang)]
        for signal in report.signals:
            skill = f" ({signal.skill})" if signal.skill else ""
            lines.append(f"• „{signal.text}”{skill}")
    return lines


LEVEL_KEYS = ("nooit", "oefenen", "voldoende", "goed")


def _effect_lines(report: TrendsReport, lang: str) -> list[str]:
    """From alert to agreement to outcome (bot.trends.effect), groups of min_group or more."""
    lines = ["", t("loop.report.header", lang, weeks=WINDOW_WEEKS, min=report.min_group)]
    if not report.effect.lines:
        return [*lines, t("loop.report.none", lang, min=report.min_group)]
    for line in report.effect.lines:
        done, partly, not_yet = line.outcomes
        weeks = (
            t("loop.report.median", lang, weeks=_number(line.median_weeks, lang))
            if line.median_weeks is not None
            else t("loop.report.no_median", lang)
        )
        lines.append(
            t("loop.report.line", lang, skill=line.skill or t("loop.report.all", lang),
              alerts=line.alerts, percent=_percent(line.with_agreement, line.alerts),
              done=done, partly=partly, not_yet=not_yet, weeks=weeks)
        )  # fmt: skip
    if report.effect.hidden:
        lines.append(t("loop.report.hidden", lang, count=report.effect.hidden,
                       min=report.min_group))  # fmt: skip
    return lines


def chart_caption(report: TrendsReport, lang: str = "nl") -> str:
    return t("observer.chart_caption", normalise_language(lang), min=report.min_group)


def trend_chart_png(report: TrendsReport, lang: str = "nl") -> bytes:
    """Line chart of the mean rating per skill over the weeks (PNG, about 1000×700 px)."""
    from bot.trends import chart  # matplotlib is loaded on first use, not at start-up

    return chart.trend_lines_png(report, normalise_language(lang))


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


async def _readers(session: Session) -> list[_Reader]:
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
    session: Session, reader: _Reader, now: datetime
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


async def monthly_reports(session: Session, now: datetime) -> list[tuple[int, Outgoing]]:
    """(chat_id, message) for every active observer: their cohorts' trends, text then chart.

    A person observing several cohorts gets one report over all of them."""
    out: list[tuple[int, Outgoing]] = []
    for reader in await _readers(session):
        _lang, messages = await _report_messages(session, reader, now)
        out += [(reader.chat_id, m) for m in messages]
    return out


async def monthly_report_items(session: Session, now: datetime) -> list[Queued]:
    """The monthly reports as outbox items with dedupe keys (see :func:`report_dedupe_key`)."""
    return await _items(session, await _readers(session), now)


async def _items(session: Session, readers: list[_Reader], now: datetime) -> list[Queued]:
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


async def queue_monthly_reports(session: Session, now: datetime) -> int:
    """Queue this month's report to every active observer; idempotent per month (the dedupe
    key holds the month), so calling it twice, or from two instances, queues it once.
    Observers whose report of this month is queued already are not computed again.
    Returns the rows added."""
    readers = await _readers(session)
    firsts = [report_dedupe_key(now, r.member_id, 0) for r in readers]
    done = await OutboxRepo(session).existing_keys(firsts)
    items = await _items(
        session, [r for r in readers if report_dedupe_key(now, r.member_id, 0) not in done], now
    )
    return await queue(session, items, now)
