"""Trends for the regiegroep: aggregated figures over the cohorts an observer
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

The code is split in two modules, everything public re-exported here: ``bot.trends.data``
(the data model and the aggregation) and ``bot.trends.report`` (text, chart, monthly report).
"""

from __future__ import annotations

from bot.trends.data import (
    MAX_GAP_SKILLS,
    MIN_GROUP,
    RECENT_ROUNDS,
    WINDOW_WEEKS,
    CohortTrend,
    GapSkill,
    RoundRate,
    SkillSeries,
    TrendPoint,
    TrendsReport,
    WeekKey,
    trends,
)
from bot.trends.report import (
    REPORT_KIND,
    REPORT_TIMEZONE,
    TEXT_LIMIT,
    TEXT_WEEKS,
    chart_caption,
    is_report_day,
    monthly_report_items,
    monthly_reports,
    queue_monthly_reports,
    render_trends,
    report_dedupe_key,
    report_month,
    trend_chart_png,
)

__all__ = [
    "MAX_GAP_SKILLS",
    "MIN_GROUP",
    "RECENT_ROUNDS",
    "REPORT_KIND",
    "REPORT_TIMEZONE",
    "TEXT_LIMIT",
    "TEXT_WEEKS",
    "WINDOW_WEEKS",
    "CohortTrend",
    "GapSkill",
    "RoundRate",
    "SkillSeries",
    "TrendPoint",
    "TrendsReport",
    "WeekKey",
    "chart_caption",
    "is_report_day",
    "monthly_report_items",
    "monthly_reports",
    "queue_monthly_reports",
    "render_trends",
    "report_dedupe_key",
    "report_month",
    "trend_chart_png",
    "trends",
]
