"""/status: a student's own history and streak."""

from __future__ import annotations

from telegram import Update

from bot.plans.store import plan_for
from bot.runtime.context import MentorContext
from bot.schedule.next_round import next_round_phrase
from bot.texts import t
from handlers.base import answer, answer_text
from handlers.roles import Reply, StudentScope, as_student
from storage.records import WeekStatus
from storage.repos.rounds import RoundRepo, student_history


@as_student()
async def status_command(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """Show the student's reflection weeks, their ratings and their current streak."""
    session, student, lang = scope.session, scope.student, scope.language
    cohort = await scope.cohort()
    assert cohort is not None
    history = await student_history(session, cohort.id, student.id)
    plan = await plan_for(session, cohort)
    current = await RoundRepo(session).latest(cohort.id, "reflection")
    if not history:
        phrase = next_round_phrase(cohort, lang, scope.now)
        return lambda: answer(update, lang, "status.none", next_round=phrase)
    titles = {skill.key: skill.label_in(lang) for skill in plan.skills}
    lines = [_header(history, lang)]
    for week in history:
        is_current = current is not None and current.is_open and current.week == week.week
        lines.append(_line(week, is_current, titles, lang))
    return lambda: answer_text(update, "\n".join(lines))


def _header(history: list[WeekStatus], lang: str) -> str:
    streak = 0
    for week in reversed(history):
        if not week.completed:
            if streak == 0 and week is history[-1]:
                continue  # this week's round still open does not break the streak
            break
        streak += 1
    done = sum(week.completed for week in history)
    weeks = t("status.week_one" if streak == 1 else "status.week_many", lang)
    return t("status.header", lang, done=done, total=len(history), streak=streak, weeks=weeks)


def _line(week: WeekStatus, is_current: bool, titles: dict[str, str], lang: str) -> str:
    if week.completed:
        ratings = ", ".join(
            f"{titles.get(skill, skill)} {rating}" for skill, rating in week.ratings
        )
        return t("status.line_done", lang, week=week.week, ratings=ratings)
    key = "status.line_open" if is_current else "status.line_missed"
    return t(key, lang, week=week.week)
