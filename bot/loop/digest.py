"""The loop's part of the Monday digest: the agenda of the week's class
meeting with its Besproken buttons, the agreements' outcomes since the last digest, and the
students who improve, each with a Compliment button.

Improvements: a gap resolved since the last digest, a skill up by at least one point over
the student's last four asks of it (the latest ask in the latest round), and a streak of
reflections that just reached a multiple of four."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.gaps.cohort_data import CohortData, load_cohort_data, skill_title
from bot.loop import agenda, compliments
from bot.outbox.queue import Outgoing
from bot.outbox.team import team_language
from bot.texts import t
from storage.db import Session
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo
from storage.repos.loop import AgreementRepo

ASKS = 4
STREAK = 4
MAX_BUTTONS = 10
SINCE = timedelta(days=7)  # outcomes of the week since the last (weekly) digest


@dataclass(frozen=True)
class Improvement:
    member_id: int
    line: str
    alert_id: int | None = None


async def meeting_messages(session: Session, cohort_id: int, now: datetime) -> list[Outgoing]:
    """The agenda message (with Besproken buttons) and, when there are any, the outcomes
    and improvements (with Compliment buttons). Build it before the gap digest marks the
    resolved gaps reported."""
    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return []
    lang = await team_language(session, cohort_id)
    meeting = await agenda.agenda(session, cohort_id, now, lang)
    messages = [Outgoing(t(meeting.key, lang, **meeting.values), meeting.buttons or [])]
    lines = await _outcome_lines(session, data, now, lang)
    found = await improvements(session, data, lang)
    if found:
        lines += ["", t("loop.digest.improvements", lang)]
        lines += [f"🌱 {i.line}" for i in found]
    if lines:
        label = t("loop.digest.compliment_button", lang)
        buttons = [[(f"{label}: {data.name(i.member_id)}",
                     compliments.button(i.member_id, i.alert_id))]
                   for i in _one_per_student(found)[:MAX_BUTTONS]]  # fmt: skip
        messages.append(Outgoing("\n".join(lines).strip(), buttons))
    return messages


async def _outcome_lines(session: Session, data: CohortData, now: datetime, lang: str) -> list[str]:
    """The agreements answered since the last digest, with both views where there are two."""
    recent = [
        a
        for a in await AgreementRepo(session).of_cohort(data.cohort.id)
        if _recent(a.outcome_at, now) or _recent(a.workplace_outcome_at, now)
    ]
    if not recent:
        return []
    lines = [t("loop.digest.outcomes", lang)]
    for a in recent:
        views = [t(f"loop.digest.view_{who}", lang, outcome=t(f"loop.outcome.{said}", lang))
                 for who, said in (("student", a.outcome), ("workplace", a.workplace_outcome))
                 if said is not None]  # fmt: skip
        lines.append(t("loop.digest.outcome_line", lang, name=data.name(a.member_id),
                       text=a.text or "", outcome=" · ".join(views)))  # fmt: skip
    return lines


def _recent(at: datetime | None, now: datetime) -> bool:
    return at is not None and now - at <= SINCE


async def improvements(session: Session, data: CohortData, lang: str) -> list[Improvement]:
    found: list[Improvement] = []
    for alert in await AlertRepo(session).resolved_unreported(data.cohort.id):
        if alert.member_id is not None and alert.member_id in data.students:
            what = skill_title(data.plan, alert.skill) or t(f"alert.kind.{alert.kind}", lang)
            after = alert.resolution == AFTER_AGREEMENT
            key = "loop.digest.resolved_after_agreement" if after else "loop.digest.resolved"
            line = t(key, lang, name=data.name(alert.member_id), what=what)
            found.append(Improvement(alert.member_id, line, alert.id))
    found += _rising_skills(data, lang)
    found += _streaks(data, lang)
    return found


def _rising_skills(data: CohortData, lang: str) -> list[Improvement]:
    if not data.rounds:
        return []
    latest_week = data.rounds[-1].week
    asks: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for a in data.answers:
        if a.kind == "rating" and a.rating is not None and a.skill and not a.skipped:
            asks.setdefault((a.member_id, a.skill), []).append((a.week, a.rating))
    found = []
    for (member_id, skill), ratings in sorted(asks.items()):
        last = sorted(ratings)[-ASKS:]
        student = data.students.get(member_id)
        if student is None or not student.is_active or len(last) < 2:
            continue
        if last[-1][0] == latest_week and last[-1][1] - last[0][1] >= 1:
            title = skill_title(data.plan, skill)
            line = t("loop.digest.rising", lang, name=student.name, skill=title,
                     before=last[0][1], now=last[-1][1])  # fmt: skip
            found.append(Improvement(member_id, line))
    return found


def _streaks(data: CohortData, lang: str) -> list[Improvement]:
    found = []
    for student in data.students.values():
        if not student.is_active:
            continue
        streak = 0
        for rnd in reversed(data.rounds):
            if student.id not in data.completed.get(rnd.id, set()):
                break
            streak += 1
        if streak and streak % STREAK == 0:
            line = t("loop.digest.streak", lang, name=student.name, count=streak)
            found.append(Improvement(student.id, line))
    return found


def _one_per_student(found: list[Improvement]) -> list[Improvement]:
    seen: dict[int, Improvement] = {}
    for item in found:
        seen.setdefault(item.member_id, item)
    return list(seen.values())
