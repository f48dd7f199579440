"""Learning agreements (leerafspraken): made from an alert's Afspraak button or /afspraak,
written as one line, given a follow-up week, and sent to the student.

A draft lives in the database (status "draft") between the mentor's steps, so a restart
between the line and the week loses nothing and another instance can finish it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from bot.gaps.cohort_data import skill_title
from bot.loop import workplace
from bot.loop.common import (
    PROMPT_MARK,
    TEAM_LANGUAGE,
    Reply,
    cohort_of,
    current_week,
    language_of,
    line_problem,
    named_student,
    reply,
    student_of,
    to_student,
)
from bot.outbox.queue import Outgoing
from bot.plans.store import plan_for
from bot.texts import t
from storage.db import Session
from storage.records import AgreementRecord, MemberRecord
from storage.repos import MemberRepo
from storage.repos.alerts import AlertRepo, AuditRepo
from storage.repos.loop import AgreementRepo

PREFIX = "ag:"
BUTTON_PATTERN = r"^ag:\d{1,12}:(w\d{1,2}|x|s)$"
DEFAULT_WEEKS_ON = 2
FOLLOW_UP_SETTING = "agreement_follow_up_weeks"
"""Key in cohort.gap_settings: weeks from making an agreement to asking how it went."""
WEEK_CHOICES = 3  # buttons for 1, 2 and 3 weeks on (the default one marked)


async def start_from_alert(
    session: Session,
    alert_id: int,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> Reply:
    """Afspraak under an alert: a draft about the alert's student and skill, and the question
    for its one line. Another cohort's, a class's or a resolved alert changes nothing."""
    alert = await AlertRepo(session).get(alert_id)
    student = await student_of(session, alert.member_id if alert else None, mentors)
    if alert is None or student is None:
        return reply("alert.not_yours")
    if not alert.is_open:
        return reply("alert.gone")
    return await _draft(session, student, mentors, user_id, now, alert_id=alert.id,
                        skill=alert.skill)  # fmt: skip


async def start_from_command(
    session: Session,
    cohort_id: int,
    raw: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> Reply:
    """/afspraak <student> [tekst]: with a text the week is asked at once, else the line."""
    named = await named_student(session, cohort_id, raw, "loop.agreement.usage")
    if isinstance(named, Reply):
        return named
    student, text = named
    return await _draft(session, student, mentors, user_id, now, text=text or None)


async def _draft(
    session: Session,
    student: MemberRecord,
    mentors: dict[int, MemberRecord],
    user_id: int,
    now: datetime,
    *,
    alert_id: int | None = None,
    skill: str | None = None,
    text: str | None = None,
) -> Reply:
    cohort = await cohort_of(session, student.cohort_id)
    repo = AgreementRepo(session)
    draft = await repo.create(
        cohort_id=cohort.id,
        member_id=student.id,
        alert_id=alert_id,
        skill=skill,
        text=text,
        status="draft",
        made_by=mentors[cohort.id].name,
        made_by_user_id=user_id,
        made_at=now,
        made_week=await current_week(session, cohort, now),
        share_workplace=await _default_share(session, student, skill),
    )
    if text is None:
        title = skill_title(await plan_for(session, cohort), skill)
        key = "loop.agreement.ask_line_skill" if title else "loop.agreement.ask_line"
        return Reply(key, {"mark": PROMPT_MARK, "name": student.name, "skill": title},
                     prompt=("agreement", draft.id))  # fmt: skip
    return await _ask_week(session, draft)


async def _default_share(session: Session, student: MemberRecord, skill: str | None) -> bool:
    """Whether the werkbegeleider gets a copy by default (bot.loop.workplace decides)."""
    return await workplace.default_share(session, student, skill)


async def fill_line(session: Session, draft_id: int, text: str) -> Reply:
    """The mentor's reply with the agreement's one line: then the follow-up week."""
    problem = line_problem(text)
    if problem is not None:
        return problem
    repo = AgreementRepo(session)
    await repo.change(draft_id, text=text.strip())
    draft = await repo.get(draft_id)
    assert draft is not None
    return await _ask_week(session, draft)


async def _ask_week(session: Session, draft: AgreementRecord) -> Reply:
    cohort = await cohort_of(session, draft.cohort_id)
    student = await MemberRepo(session).get(draft.member_id)
    weeks_on = _weeks_on(cohort.gap_settings)
    buttons = []
    for on in range(1, WEEK_CHOICES + 1):
        week = draft.made_week + on
        key = "loop.agreement.week_default" if on == weeks_on else "loop.agreement.week_button"
        buttons.append((t(key, TEAM_LANGUAGE, week=week), f"{PREFIX}{draft.id}:w{week}"))
    cancel = [(t("loop.agreement.cancel_button", TEAM_LANGUAGE), f"{PREFIX}{draft.id}:x")]
    share = await workplace.share_button(session, draft)
    return Reply(
        "loop.agreement.ask_week",
        {"name": student.name if student else "?", "text": draft.text},
        buttons=[buttons, share, cancel] if share else [buttons, cancel],
    )


def _weeks_on(settings: dict[str, object]) -> int:
    value = settings.get(FOLLOW_UP_SETTING, DEFAULT_WEEKS_ON)
    return value if isinstance(value, int) and 1 <= value <= WEEK_CHOICES else DEFAULT_WEEKS_ON


def parse_button(data: str) -> tuple[int, str] | None:
    if re.fullmatch(BUTTON_PATTERN, data) is None:
        return None
    agreement_id, action = data[len(PREFIX) :].split(":")
    return int(agreement_id), action


async def press(
    session: Session,
    data: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
) -> Reply:
    """A week button (send it) or Annuleren under a draft; only its own mentor's draft."""
    parsed = parse_button(data)
    repo = AgreementRepo(session)
    draft = await repo.get(parsed[0]) if parsed else None
    if parsed is None or draft is None or draft.cohort_id not in mentors:
        return reply("loop.not_yours")
    if draft.status != "draft" or draft.text is None:
        return reply("loop.agreement.gone")
    if parsed[1] == "x":
        await repo.change(draft.id, status="cancelled")
        return reply("loop.agreement.cancelled")
    if parsed[1] == workplace.SHARE:  # the copy on or off: the same question, buttons changed
        await repo.change(draft.id, share_workplace=not draft.share_workplace)
        return await _ask_week(session, replace(draft, share_workplace=not draft.share_workplace))
    week = int(parsed[1][1:])
    if not draft.made_week < week <= draft.made_week + WEEK_CHOICES:
        return reply("loop.not_yours")
    if not await repo.activate(draft.id, week, now):
        return reply("loop.agreement.gone")
    student = await MemberRepo(session).get(draft.member_id)
    assert student is not None
    lang = await language_of(session, student)
    message = Outgoing(t("loop.agreement.to_student", lang, text=draft.text, week=week))
    reached = await to_student(session, student, f"agreement:{draft.id}", message, now)
    await AuditRepo(session).add(user_id, draft.cohort_id, "agreement_made",
                                 f"agreement:{draft.id}", now)  # fmt: skip
    copies = await workplace.send_copies(session, draft, student, week, now)
    if copies:
        await AuditRepo(session).add(user_id, draft.cohort_id, "agreement_shared",
                                     f"agreement:{draft.id}", now)  # fmt: skip
    key = "loop.agreement.sent" if reached else "loop.agreement.unreachable"
    if reached and copies:
        key = "loop.agreement.sent_shared"
    return reply(key, name=student.name, week=week, text=draft.text, names=", ".join(copies))
