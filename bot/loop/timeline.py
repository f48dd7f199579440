"""One student's timeline for the mentor team (/student): alerts (raised, resolved, how),
agreements with their outcomes and the student's own words, meeting notes and compliments,
oldest first, each line with its date in the cohort's time zone."""

from __future__ import annotations

from datetime import datetime

from bot.gaps.cohort_data import CohortData, local_time, shorten, skill_title
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord
from storage.repos.alerts import AFTER_AGREEMENT, AlertRepo
from storage.repos.loop import AgreementRepo, ComplimentRepo, NoteRepo

MAX_LINES = 30
TEXT_LIMIT = 160


async def timeline_lines(
    session: Session, data: CohortData, student: MemberRecord, lang: str
) -> list[str]:
    """The student's events as text lines (empty when there is nothing yet)."""
    events: list[tuple[datetime, str]] = []
    for alert in await AlertRepo(session).of_member(student.id):
        what = skill_title(data.plan, alert.skill) or t(f"alert.kind.{alert.kind}", lang)
        events.append((alert.raised_at, t("loop.timeline.alert", lang, what=what,
                                          week=alert.raised_week)))  # fmt: skip
        if alert.resolved_at is not None:
            after = alert.resolution == AFTER_AGREEMENT
            key = "loop.timeline.resolved_after_agreement" if after else "loop.timeline.resolved"
            events.append((alert.resolved_at, t(key, lang, what=what)))
    for ag in await AgreementRepo(session).of_member(student.id):
        events.append((ag.made_at, t("loop.timeline.agreement", lang, text=_short(ag.text),
                                     week=ag.follow_up_week)))  # fmt: skip
        if ag.outcome is not None and ag.outcome_at is not None:
            outcome = t(f"loop.outcome.{ag.outcome}", lang)
            words = f" — „{_short(ag.outcome_note)}”" if ag.outcome_note else ""
            events.append((ag.outcome_at, t("loop.timeline.outcome", lang, outcome=outcome)
                           + words))  # fmt: skip
        if ag.workplace_outcome is not None and ag.workplace_outcome_at is not None:
            outcome = t(f"loop.outcome.{ag.workplace_outcome}", lang)
            words = f" — „{_short(ag.workplace_note)}”" if ag.workplace_note else ""
            events.append((ag.workplace_outcome_at, t("loop.timeline.workplace_outcome", lang,
                                                      outcome=outcome) + words))  # fmt: skip
    for note in await NoteRepo(session).of_member(student.id):
        events.append((note.created_at, t("loop.timeline.note", lang, text=_short(note.text),
                                          by=note.written_by)))  # fmt: skip
    for c in await ComplimentRepo(session).of_member(student.id):
        events.append((c.created_at, t("loop.timeline.compliment", lang, text=_short(c.text))))
    events.sort(key=lambda e: e[0])
    lines = [f"{local_time(data.cohort, at):%d-%m} {line}" for at, line in events]
    return lines[-MAX_LINES:]


def _short(text: str | None) -> str:
    return shorten(text or "", TEXT_LIMIT)


async def cohort_rows(session: Session, data: CohortData, lang: str) -> list[list[str]]:
    """Every student's agreements, meeting notes and compliments, for /export, with the
    fixed words in `lang`: [student, date, kind, text, follow-up week, the student's outcome
    and words, the werkbegeleider's outcome and words, by] (bot.mentor.export.LOOP_COLUMNS)."""
    rows: list[tuple[datetime, list[str]]] = []
    for student in data.students.values():
        name = student.name
        for ag in await AgreementRepo(session).of_member(student.id):
            extra = [str(ag.follow_up_week or ""), _outcome(ag.outcome, lang),
                     ag.outcome_note or "", _outcome(ag.workplace_outcome, lang),
                     ag.workplace_note or ""]  # fmt: skip
            rows.append(_row(data, name, ag.made_at, t("export.kind.agreement", lang), ag.text,
                             extra, ag.made_by))  # fmt: skip
        for note in await NoteRepo(session).of_member(student.id):
            rows.append(_row(data, name, note.created_at, t("export.kind.note", lang), note.text,
                             [], note.written_by))  # fmt: skip
        for c in await ComplimentRepo(session).of_member(student.id):
            rows.append(_row(data, name, c.created_at, t("export.kind.compliment", lang), c.text,
                             [], c.written_by))  # fmt: skip
    return [r for _at, r in sorted(rows, key=lambda r: r[0])]


def _outcome(outcome: str | None, lang: str) -> str:
    return "" if outcome is None else t(f"loop.outcome.{outcome}", lang)


AGREEMENT_ONLY = 5  # follow-up week, both views' outcomes and words: empty for other rows


def _row(
    data: CohortData,
    name: str,
    at: datetime,
    kind: str,
    text: str | None,
    extra: list[str],
    by: str,
) -> tuple[datetime, list[str]]:
    day = local_time(data.cohort, at).date().isoformat()
    return at, [name, day, kind, text or "", *(extra or [""] * AGREEMENT_ONLY), by]
