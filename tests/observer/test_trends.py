"""Aggregation rules of the observers' trends, on stored data, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import trends
from bot.trends import MIN_GROUP, TrendsReport
from storage.db import Database
from storage.models import OutboxMessage
from storage.repos import MemberRepo, UserSettingsRepo
from storage.repos.alerts import AlertRepo
from tests.factories import add_member, add_students, make_cohort
from tests.observer.helpers import NOW, PLAN, add_round, iso_week, week_time

NAMES_A = ["Anna de Vries", "Bram Bakker", "Cem Yilmaz", "Daan Smit", "Eva Janssen", "Fleur Mulder"]
NAMES_B = ["Gijs Visser", "Hanna Bos", "Ilse Meijer", "Joris Peters", "Kim de Boer"]
NAMES_SMALL = ["Lotte Kok", "Mees Dekker", "Noor Brouwer", "Olaf Wit"]
ALL_NAMES = NAMES_A + NAMES_B + NAMES_SMALL


def _point(report: TrendsReport, skill: str, week: int) -> trends.TrendPoint | None:
    for series in report.series:
        if series.skill == skill:
            return next((p for p in series.points if p.week == iso_week(week)), None)
    return None


def _walk(value: Any) -> list[tuple[str, Any]]:
    """Every (field name, value) inside the report, recursively."""
    found: list[tuple[str, Any]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            found.append((f.name, item))
            found += _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += _walk(item)
    return found


async def test_a_cell_of_four_students_is_hidden_and_of_five_shown(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, "PW3A", plan=PLAN)
        ids = await add_students(s, cohort, NAMES_A)
        # week 1: five rate klimaat, only four of them rate samenwerken
        week1 = {m: {"klimaat": 3} for m in ids[:5]}
        for m in ids[:4]:
            week1[m]["samenwerken"] = 2
        await add_round(s, cohort, 1, week1, enrolled=ids)
        # week 2: five rate samenwerken, four rate klimaat
        week2 = {m: {"samenwerken": 4} for m in ids[:5]}
        for m in ids[:4]:
            week2[m]["klimaat"] = 5
        await add_round(s, cohort, 2, week2, enrolled=ids)
        report = await trends.trends(s, [cohort], NOW)
    shown = _point(report, "Veilig klimaat", 1)
    assert shown is not None and shown.students == 5 and shown.mean == pytest.approx(3.0)
    assert _point(report, "Samenwerken", 1) is None  # four students: left out
    shown = _point(report, "Samenwerken", 2)
    assert shown is not None and shown.students == 5 and shown.mean == pytest.approx(4.0)
    assert _point(report, "Veilig klimaat", 2) is None
    assert report.hidden_cells == 2
    assert report.weeks == (iso_week(1), iso_week(2))
    assert all(p.students >= MIN_GROUP for s in report.series for p in s.points)
    text = trends.render_trends(report, "nl")
    assert "Veilig klimaat: wk 36 3,0" in text and "Samenwerken: wk 37 4,0" in text
    assert "wk 36 2,0" not in text  # the hidden cell's mean appears nowhere
    assert "minder dan 5 studenten een vaardigheid beoordeelden" in text


async def test_cells_pool_students_across_cohorts(db: Database) -> None:
    async with db.transaction() as s:
        a = await make_cohort(s, "PW3A", plan=PLAN)
        b = await make_cohort(s, "PW3B", plan=PLAN)
        ids_a = await add_students(s, a, NAMES_A)
        ids_b = await add_students(s, b, NAMES_B)
        await add_round(s, a, 1, {m: {"klimaat": 2} for m in ids_a[:3]}, enrolled=ids_a)
        await add_round(s, b, 1, {m: {"klimaat": 5} for m in ids_b[:2]}, enrolled=ids_b)
        await add_round(s, a, 2, {m: {"klimaat": 2} for m in ids_a[:3]}, enrolled=ids_a)
        report = await trends.trends(s, [a, b], NOW)
    pooled = _point(report, "Veilig klimaat", 1)
    assert pooled is not None and pooled.students == 5
    assert pooled.mean == pytest.approx((3 * 2 + 2 * 5) / 5)
    assert _point(report, "Veilig klimaat", 2) is None  # three students that week


async def test_a_cohort_under_five_is_too_small_and_left_out_of_every_figure(
    db: Database,
) -> None:
    async with db.transaction() as s:
        big = await make_cohort(s, "PW3A", plan=PLAN)
        small = await make_cohort(s, "PW3K", plan=PLAN)
        ids_big = await add_students(s, big, NAMES_B)
        ids_small = await add_students(s, small, NAMES_SMALL)
        await add_round(s, big, 1, {m: {"klimaat": 4} for m in ids_big[:3]}, enrolled=ids_big)
        await add_round(s, small, 1, {m: {"klimaat": 1} for m in ids_small}, enrolled=ids_small)
        await AlertRepo(s).raise_new(
            small, "class_gap::klimaat", kind="class_gap", member_id=None, skill="klimaat",
            evidence={"weeks": [1, 2]}, week=2, now=week_time(2),
        )  # fmt: skip
        report = await trends.trends(s, [big, small], NOW)
    by_name = {c.name: c for c in report.cohorts}
    assert by_name["PW3K"].too_small and by_name["PW3K"].recent == ()
    assert by_name["PW3K"].done is None and by_name["PW3K"].total is None
    assert not by_name["PW3A"].too_small
    # 3 + 4 students would be 7, but the small class does not count: the cell stays hidden
    assert _point(report, "Veilig klimaat", 1) is None and report.series == ()
    assert report.gaps == ()  # the small class's gap is not shown either
    for lang, words in (("nl", "te klein om te tonen"), ("en", "too small to show")):
        text = trends.render_trends(report, lang)
        assert f"PW3K: {words}" in text


async def test_response_rates_per_round_and_overall(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, "PW3A", plan=PLAN)
        ids = await add_students(s, cohort, NAMES_A)
        for week, done in ((1, 6), (2, 5), (3, 3), (4, 4), (5, 6)):
            await add_round(s, cohort, week, {m: {"klimaat": 3} for m in ids[:done]},
                            enrolled=ids)  # fmt: skip
        # a round that went to four students only is shown as too small
        await add_round(s, cohort, 6, {m: {"klimaat": 3} for m in ids[:2]}, enrolled=ids[:4])
        # the running round does not count
        await add_round(s, cohort, 7, {m: {"klimaat": 1} for m in ids}, enrolled=ids, close=False)
        report = await trends.trends(s, [cohort], NOW + timedelta(weeks=1))
    [trend] = report.cohorts
    assert [(r.week, r.done, r.total) for r in trend.recent] == [
        (iso_week(3), 3, 6),
        (iso_week(4), 4, 6),
        (iso_week(5), 6, 6),
        (iso_week(6), None, None),
    ]
    assert (trend.done, trend.total) == (6 + 5 + 3 + 4 + 6 + 2, 6 * 5 + 4)
    assert _point(report, "Veilig klimaat", 7) is None
    text = trends.render_trends(report, "nl")
    assert "PW3A: 76% in totaal (26 van 34)" in text
    assert "wk 38 50% (3/6) · wk 39 67% (4/6) · wk 40 100% (6/6) · wk 41 te klein" in text
    english = trends.render_trends(report, "en")
    assert "PW3A: 76% overall (26 of 34)" in english and "wk 41 too small" in english


async def test_skills_of_recurring_class_gaps_count_classes_and_rounds(db: Database) -> None:
    async with db.transaction() as s:
        a = await make_cohort(s, "PW3A", plan=PLAN)
        b = await make_cohort(s, "PW3B", plan=PLAN)
        ids_a = await add_students(s, a, NAMES_A)
        await add_students(s, b, NAMES_B)
        repo = AlertRepo(s)
        for cohort, weeks in ((a, [2, 3, 4]), (b, [3, 4])):
            await repo.raise_new(
                cohort, "class_gap::samenwerken", kind="class_gap", member_id=None,
                skill="samenwerken", evidence={"weeks": weeks, "items": []}, week=4,
                now=week_time(4),
            )  # fmt: skip
        resolved = await repo.raise_new(
            a, "class_gap::klimaat", kind="class_gap", member_id=None, skill="klimaat",
            evidence={"weeks": [1, 2], "items": [{"student_id": ids_a[0], "note": "x"}]},
            week=2, now=week_time(2),
        )  # fmt: skip
        assert resolved is not None
        await repo.resolve(resolved, week_time(4))
        # an old, resolved gap outside the window and a student's own gap do not count
        old = await repo.raise_new(
            a, "class_gap::oud", kind="class_gap", member_id=None, skill="samenwerken",
            evidence={"weeks": [1]}, week=1, now=NOW - timedelta(weeks=30),
        )  # fmt: skip
        assert old is not None
        await repo.resolve(old, NOW - timedelta(weeks=29))
        await repo.raise_new(
            a, f"student_gap:{ids_a[1]}:klimaat", kind="student_gap", member_id=ids_a[1],
            skill="klimaat", evidence={"weeks": [3, 4]}, week=4, now=week_time(4),
        )  # fmt: skip
        report = await trends.trends(s, [a, b], NOW)
    assert [(g.skill, g.cohorts, g.rounds, g.open_in) for g in report.gaps] == [
        ("Samenwerken", 2, 5, 2),
        ("Veilig klimaat", 1, 2, 0),
    ]
    text = trends.render_trends(report, "nl")
    assert "Samenwerken: 2 klas(sen), 5 rondes (nog open in 2)" in text
    assert "Veilig klimaat: 1 klas(sen), 2 rondes" in text


async def test_the_report_names_no_student_and_carries_no_member_id(db: Database) -> None:
    async with db.transaction() as s:
        a = await make_cohort(s, "PW3A", plan=PLAN)
        b = await make_cohort(s, "PW3K", plan=PLAN)
        ids = await add_students(s, a, NAMES_A)
        small = await add_students(s, b, NAMES_SMALL)
        for week in (1, 2, 3):
            await add_round(
                s, a, week, {m: {"klimaat": 1 + (m + week) % 5, "samenwerken": 2} for m in ids},
                texts={m: f"Vandaag met {NAMES_A[-1]} en {NAMES_B[0]} gewerkt." for m in ids},
            )  # fmt: skip
            await add_round(s, b, week, {m: {"klimaat": 1} for m in small})
        await AlertRepo(s).raise_new(
            a, "class_gap::klimaat", kind="class_gap", member_id=None, skill="klimaat",
            evidence={"weeks": [1, 2, 3], "items": [
                {"student_id": ids[0], "note": f"{NAMES_A[0]} low", "text": NAMES_A[0]}]},
            week=3, now=week_time(3),
        )  # fmt: skip
        report = await trends.trends(s, [a, b], NOW)
    assert report.series and report.gaps
    member_ids = set(ids) | set(small)
    for name, value in _walk(report):
        assert "member" not in name and "student_id" not in name, name
        if isinstance(value, str):
            assert not any(n.casefold() in value.casefold() for n in ALL_NAMES), value
    for lang in ("nl", "en"):
        text = trends.render_trends(report, lang).casefold()
        for student in ALL_NAMES:
            assert student.casefold() not in text
            for part in student.split():
                if len(part) > 3:  # first and last names, not "de"
                    assert part.casefold() not in text, (part, lang)
    assert all(p.students >= MIN_GROUP for s in report.series for p in s.points)
    assert not any(isinstance(v, int) and v in member_ids and n == "id" for n, v in _walk(report))


async def test_chart_is_a_png_of_about_1000_by_700(db: Database) -> None:
    async with db.transaction() as s:
        cohort = await make_cohort(s, "PW3A", plan=PLAN)
        ids = await add_students(s, cohort, NAMES_A)
        for week in (1, 2, 3, 4):
            await add_round(s, cohort, week, {m: {"klimaat": 2 + week % 3, "samenwerken": 3}
                                              for m in ids})  # fmt: skip
        report = await trends.trends(s, [cohort], NOW)
    png = trends.trend_chart_png(report, "en")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1000, 700)


async def test_monthly_reports_reach_every_active_observer_once_a_month(db: Database) -> None:
    async with db.transaction() as s:
        a = await make_cohort(s, "PW3A", plan=PLAN)
        b = await make_cohort(s, "PW3B", plan=PLAN)
        ids_a = await add_students(s, a, NAMES_A)
        ids_b = await add_students(s, b, NAMES_B)
        for week in (1, 2):
            await add_round(s, a, week, {m: {"klimaat": 4} for m in ids_a})
            await add_round(s, b, week, {m: {"klimaat": 2} for m in ids_b})
        # Rita observes both classes (one report over both), Sam only B, Tom stopped.
        rita_a = await add_member(s, a, "Rita Regie", "observer", user_id=71)
        await add_member(s, b, "Rita Regie", "observer", user_id=71)
        sam = await add_member(s, b, "Sam Stuur", "observer", user_id=72)
        tom = await add_member(s, a, "Tom Weg", "observer", user_id=73)
        await MemberRepo(s).set_status(tom, "stopped")
        await add_member(s, a, "Mira Mentor", "mentor", user_id=74)
        await UserSettingsRepo(s).set_language(72, "en")
        reports = await trends.monthly_reports(s, NOW)
    assert [(chat, bool(m.photo)) for chat, m in reports] == [
        (71, False),
        (71, True),
        (72, False),
        (72, True),
    ]
    rita_text, sam_text = reports[0][1].text, reports[2][1].text
    assert "PW3A" in rita_text and "PW3B" in rita_text and "maandoverzicht" in rita_text
    assert "PW3A" not in sam_text and "PW3B" in sam_text and "monthly overview" in sam_text
    assert "Veilig klimaat: wk 36 3,1" in rita_text  # (6 × 4 + 5 × 2) / 11 = 3.09
    assert "Veilig klimaat: wk 36 2.0" in sam_text
    for _chat, message in reports:
        assert message.photo is None or message.photo.startswith(b"\x89PNG")
        assert not any(n in message.text for n in ALL_NAMES)

    first_monday = NOW.replace(month=11, day=2, hour=7)  # Monday 2 November 2026
    assert trends.is_report_day(date(2026, 11, 2)) and not trends.is_report_day(date(2026, 11, 9))
    assert not trends.is_report_day(date(2026, 11, 3))
    async with db.transaction() as s:
        assert await trends.queue_monthly_reports(s, first_monday) == 4
    async with db.transaction() as s:
        assert await trends.queue_monthly_reports(s, first_monday + timedelta(hours=1)) == 0
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.dedupe_key for r in rows] == [
        f"observer-report:2026-11:{rita_a}:0",
        f"observer-report:2026-11:{rita_a}:1",
        f"observer-report:2026-11:{sam}:0",
        f"observer-report:2026-11:{sam}:1",
    ]
    assert [r.chat_id for r in rows] == [71, 71, 72, 72]
    assert rows[1].payload.get("photo") and rows[1].attachment.startswith(b"\x89PNG")
    assert rows[0].kind == "report" and rows[0].member_id == rita_a
    async with db.transaction() as s:  # next month: a new report (its ratings are out of
        december = first_monday.replace(month=12, day=7)  # the 12-week window: no chart)
        assert await trends.queue_monthly_reports(s, december) == 2


def test_dedupe_key_takes_the_month_in_amsterdam() -> None:
    from datetime import UTC, datetime

    just_after_midnight = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 1 November, 00:30 CET
    assert trends.report_dedupe_key(just_after_midnight, 7, 0) == "observer-report:2026-11:7:0"
