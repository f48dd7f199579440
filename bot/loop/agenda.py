"""The class meeting (klassenbespreking): its agenda and the Besproken notes.

On the agenda: alerts marked Bespreken, agreements due this week or answered "nog niet", and
students' questions nobody answered. Besproken asks for a one-line note; once written the
item leaves the agenda and the note joins the student's timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.gaps.cohort_data import CohortData, load_cohort_data, shorten, skill_title
from bot.loop.common import (
    PROMPT_MARK,
    Reply,
    cohort_of,
    current_week,
    line_problem,
    reply,
)
from bot.texts import t
from storage.db import Session
from storage.records import AlertRecord, MemberRecord
from storage.repos.alerts import AlertRepo, AuditRepo
from storage.repos.answers_query import QuestionsRepo
from storage.repos.loop import AgreementRepo, NoteRepo, open_questions

PREFIX = "bs:"
BUTTON_PATTERN = r"^bs:(alert|agreement|question):\d{1,12}$"
MAX_ITEMS = 20


@dataclass(frozen=True)
class Item:
    """One point of the agenda; `subject` is what its note is about ("alert:12")."""

    subject: str
    member_id: int | None
    line: str


async def items(session: Session, cohort_id: int, now: datetime, lang: str) -> list[Item]:
    data = await load_cohort_data(session, cohort_id)
    if data is None:
        return []
    week = await current_week(session, data.cohort, now)
    found = [_alert_item(a, data, lang) for a in await AlertRepo(session).to_discuss(cohort_id)]
    for ag in await AgreementRepo(session).of_cohort(cohort_id):
        due = ag.follow_up_week == week and ag.outcome is None
        if ag.discussed_at is None and (due or ag.on_agenda):
            key = "loop.agenda.agreement_not_yet" if ag.on_agenda else "loop.agenda.agreement_due"
            line = t(key, lang, name=data.name(ag.member_id), text=ag.text or "",
                     week=ag.follow_up_week)  # fmt: skip
            found.append(Item(f"agreement:{ag.id}", ag.member_id, line))
    noted = await NoteRepo(session).subjects_noted(cohort_id)
    for q in await open_questions(session, cohort_id):
        if f"question:{q.id}" not in noted:
            line = t("loop.agenda.question", lang, name=data.name(q.member_id),
                     text=shorten(q.text, 120), id=q.id)  # fmt: skip
            found.append(Item(f"question:{q.id}", q.member_id, line))
    return found[:MAX_ITEMS]


def _alert_item(alert: AlertRecord, data: CohortData, lang: str) -> Item:
    who = data.name(alert.member_id) if alert.member_id else t("alert.the_class", lang)
    what = skill_title(data.plan, alert.skill) or t(f"alert.kind.{alert.kind}", lang)
    line = t("loop.agenda.alert", lang, name=who, what=what, id=alert.id)
    return Item(f"alert:{alert.id}", alert.member_id, line)


async def agenda(session: Session, cohort_id: int, now: datetime, lang: str) -> Reply:
    """/agenda: the numbered items, each with its Besproken button."""
    cohort = await cohort_of(session, cohort_id)
    found = await items(session, cohort_id, now, lang)
    if not found:
        return reply("loop.agenda.empty", cohort=cohort.name)
    lines = [f"{n}. {item.line}" for n, item in enumerate(found, start=1)]
    label = t("loop.agenda.done_button", lang)
    buttons = [[(f"✓ {n} {label}", f"{PREFIX}{item.subject}")]
               for n, item in enumerate(found, start=1)]  # fmt: skip
    return Reply("loop.agenda.header", {"cohort": cohort.name, "items": "\n".join(lines)},
                 buttons=buttons)  # fmt: skip


async def start_note(
    session: Session,
    data: str,
    user_id: int,
    mentors: dict[int, MemberRecord],
    now: datetime,
    lang: str,
) -> Reply:
    """Besproken on an item: a pending note and the question for its one line."""
    if re.fullmatch(BUTTON_PATTERN, data) is None:
        return reply("loop.not_yours")
    subject = data[len(PREFIX) :]
    cohort_id = await _cohort_of_subject(session, subject)
    if cohort_id is None or cohort_id not in mentors:
        return reply("loop.not_yours")
    found = {item.subject: item for item in await items(session, cohort_id, now, lang)}
    item = found.get(subject)
    if item is None:
        return reply("loop.agenda.gone")
    note = await NoteRepo(session).create(
        cohort_id=cohort_id,
        member_id=item.member_id,
        subject=subject,
        written_by=mentors[cohort_id].name,
        written_by_user_id=user_id,
        created_at=now,
    )
    return Reply("loop.agenda.ask_note", {"mark": PROMPT_MARK, "item": item.line},
                 prompt=("note", note.id))  # fmt: skip


async def _cohort_of_subject(session: Session, subject: str) -> int | None:
    kind, _, raw = subject.partition(":")
    number = int(raw)
    if kind == "alert":
        alert = await AlertRepo(session).get(number)
        return alert.cohort_id if alert else None
    if kind == "agreement":
        agreement = await AgreementRepo(session).get(number)
        return agreement.cohort_id if agreement else None
    question = await QuestionsRepo(session).get(number)
    return question.cohort_id if question else None


async def fill_note(
    session: Session, note_id: int, text: str, user_id: int, now: datetime
) -> Reply:
    """The note's line: stored, and its item ticked off the agenda."""
    problem = line_problem(text)
    if problem is not None:
        return problem
    notes = NoteRepo(session)
    note = await notes.get(note_id)
    if note is None or not await notes.set_text(note_id, text.strip(), now):
        return reply("loop.agenda.gone")
    kind, _, raw = note.subject.partition(":")
    if kind == "alert":
        await AlertRepo(session).set_discuss(int(raw), False)
    elif kind == "agreement":
        await AgreementRepo(session).change(int(raw), on_agenda=False, discussed_at=now)
    await AuditRepo(session).add(user_id, note.cohort_id, "meeting_note", f"note:{note.id}", now)
    return reply("loop.agenda.noted")
