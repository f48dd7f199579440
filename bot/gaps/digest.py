"""The weekly digest for the mentor team: last week's response, open gaps, the
agenda (alerts marked Bespreken), gaps resolved since the previous digest, and a chart."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.gaps.alert_text import skill_label, summary_line
from bot.gaps.cohort_data import CohortData, gap_settings_of, load_cohort_data, skill_week_means
from bot.gaps.rules import CohortAnswers, stricter_for_self
from bot.gaps.workplace_silence import silent_werkbegeleiders
from bot.outbox.queue import Outgoing
from bot.outbox.team import team_language
from bot.texts import t
from storage.db import Session
from storage.records import AlertRecord
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo

MAX_LINES = 25
TEXT_LIMIT = 4000


async def build_digest(
    session: Session, cohort_id: int, week: int, now: datetime
) -> list[Outgoing]:
    """The digest messages for plan week `week` (a text, then a chart when there are ratings).

    Resolved gaps it reports are marked reported in this transaction, so the next digest does
    not repeat them; building it twice in one transaction gives the same text."""
    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return []
    lang = await team_language(session, cohort_id)
    repo = AlertRepo(session)
    lines = [t("digest.header", lang, cohort=data.cohort.name, week=week), ""]
    lines += _response_lines(data, week, lang)
    unresolved = await repo.unresolved(cohort_id)
    lines.append("")
    if unresolved:
        lines.append(t("digest.open_gaps", lang, count=len(unresolved)))
        lines += _capped([summary_line(a, data, lang) for a in unresolved])
    else:
        lines.append(t("digest.no_gaps", lang))
    agenda = [a for a in unresolved if a.discuss]
    if agenda:
        lines += ["", t("digest.agenda", lang)]
        lines += _capped([f"• {_describe(a, data, lang)}" for a in agenda])
    silent = await silent_werkbegeleiders(session, cohort_id, week)
    if silent:
        lines += ["", t("digest.werkbegeleider_silent", lang, names=", ".join(silent))]
    resolved = await repo.resolved_unreported(cohort_id)
    if resolved:
        lines += ["", t("digest.resolved", lang)]
        lines += _capped([f"✓ {_describe(a, data, lang)}{_how(a, lang)}" for a in resolved])
        await repo.mark_reported([a.id for a in resolved])
    encourage = stricter_lines(data, data.cohort_answers(), lang)
    if encourage:
        lines += ["", t("digest.stricter", lang), *_capped(encourage)]
    text = "\n".join(lines)
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1] + "…"
    messages = [Outgoing(text)]
    matrix = skill_week_means(data, lang=lang)
    if matrix.weeks:
        from bot.charts import (
            class_chart as charts,  # matplotlib is loaded on first use, not at start-up
        )

        png = await asyncio.to_thread(charts.heatmap_png, matrix, data.cohort.name)
        caption = t("digest.chart_caption", lang, cohort=data.cohort.name)
        messages.append(Outgoing(caption, photo=png))
    return messages


def _response_lines(data: CohortData, week: int, lang: str) -> list[str]:
    earlier = [r for r in data.rounds if r.week < week] or [
        r for r in data.rounds if r.week <= week
    ]
    if not earlier:
        return [t("digest.no_round", lang)]
    rnd = earlier[-1]
    done = data.completed.get(rnd.id, set())
    enrolled = data.enrolled.get(rnd.id, set()) | done
    percent = round(100 * len(done) / len(enrolled)) if enrolled else 0
    lines = [
        t("digest.response", lang, week=rnd.week, done=len(done), total=len(enrolled),
          percent=percent)
    ]  # fmt: skip
    missing = sorted((data.name(m) for m in enrolled - done), key=str.casefold)
    if missing:
        lines.append(t("digest.missing", lang, names=", ".join(missing)))
    return lines


def stricter_lines(data: CohortData, answers: CohortAnswers, lang: str) -> list[str]:
    """Students stricter for themselves than their workplace, with a suggestion to encourage:
    a digest line, never an alert (``bot.gaps.two_views.stricter_for_self``)."""
    active = {m.id for m in data.students.values() if m.is_active}
    found = stricter_for_self(answers, gap_settings_of(data.cohort))
    return [
        t(
            "digest.stricter_line",
            lang,
            name=data.name(s.student_id),
            skill=skill_label(data, s.skill, lang),
            own=" · ".join("–" if r is None else str(r) for r in s.ratings),
            work=" · ".join(t(f"alert.level.{level}", lang) for level in s.observed),
        )
        for s in found
        if s.student_id in active
    ]


def _describe(alert: AlertRecord, data: CohortData, lang: str) -> str:
    who = data.name(alert.member_id) if alert.member_id else t("alert.the_class", lang)
    what = skill_label(data, alert.skill, lang) or t(f"alert.kind.{alert.kind}", lang)
    return f"{who} — {what}"


def _how(alert: AlertRecord, lang: str) -> str:
    """How a resolved gap closed, when a learning agreement did it (bot.loop)."""
    if alert.resolution == AFTER_AGREEMENT:
        return " " + t("digest.after_agreement", lang)
    return ""


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"… (+{len(lines) - MAX_LINES})"]
