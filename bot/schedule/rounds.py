"""Opening a round: created once per (cohort, week, kind), its messages queued in the outbox
in the same transaction, so a crash leaves either the whole round or none of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.checkin.flow import (
    EXPECTATIONS_KEY,
    RESUME,
    Ask,
    ask_next,
    reflection_week,
    render_expectations,
)
from bot.observe import round as observation
from bot.outbox.queue import Outgoing, Queued, queue
from bot.outbox.team import team_chats
from bot.plans.store import plan_for
from bot.schedule.next_round import weekly_phrase
from bot.texts import normalise_language, t
from storage.db import Database, Session
from storage.records import CohortRecord, MemberRecord, RoundRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.rounds import AnswerRepo, PromptRepo, RoundRepo

log = logging.getLogger(__name__)
STUDENT_KINDS = ("expectations", "reflection", "reminder")
KINDS = (*STUDENT_KINDS, "digest", "observation")
ANSWERED_KINDS = ("expectations", "reflection", "observation")  # open until the next one


@dataclass
class OpenedRound:
    round: RoundRecord
    created: bool
    queued: int = 0
    closed_round_ids: list[int] = field(default_factory=list)


async def open_round(
    db: Database, cohort_id: int, week: int, kind: str, due_at: datetime, now: datetime
) -> OpenedRound:
    """Create the round if it does not exist and queue its messages; idempotent."""
    if kind not in KINDS:
        raise ValueError(f"unknown round kind {kind!r}")
    async with db.transaction() as session:
        rounds = RoundRepo(session)
        round_, created = await rounds.insert_if_absent(cohort_id, week, kind, due_at)
        if not created:
            return OpenedRound(round_, False)
        closed = []
        if kind in ANSWERED_KINDS:
            # answers may change until the next round of the same kind opens
            closed = await rounds.close_others(cohort_id, kind, round_.id, now)
        cohort = await CohortRepo(session).get(cohort_id)
        assert cohort is not None
        items = await _messages(session, cohort, round_, now)
        queued = await queue(session, items, now)
    log.info("round opened cohort=%s week=%s kind=%s queued=%s", cohort_id, week, kind, queued)
    return OpenedRound(round_, True, queued, closed)


async def record_skipped(
    db: Database, cohort_id: int, week: int, kind: str, due_at: datetime
) -> bool:
    """Note a round missed beyond the grace period, so that it is never sent late."""
    async with db.transaction() as session:
        _round, created = await RoundRepo(session).insert_if_absent(
            cohort_id, week, kind, due_at, status="skipped"
        )
    if created:
        log.warning("round skipped (too late) cohort=%s week=%s kind=%s", cohort_id, week, kind)
    return created


async def _messages(
    session: Session, cohort: CohortRecord, round_: RoundRecord, now: datetime
) -> list[Queued]:
    if round_.kind == "digest":
        return await _digest(session, cohort, round_, now)
    if round_.kind == "observation":
        return await observation.round_messages(session, cohort, round_)
    students = await MemberRepo(session).in_cohort(cohort.id, "student", statuses=("active",))
    languages = await UserSettingsRepo(session).languages(
        [s.telegram_user_id for s in students if s.telegram_user_id]
    )
    build = {"expectations": _expectations, "reflection": _reflection, "reminder": _reminder}.get(
        round_.kind
    )
    if build is None:
        return []
    tokens = await _prepare_in_bulk(
        session, round_, [s.id for s in students if s.chat_id is not None]
    )
    items = []
    for student in students:
        if student.chat_id is None:
            continue
        lang = normalise_language(languages.get(student.telegram_user_id or 0))
        message = await build(session, cohort, round_, student, lang, now, tokens.get(student.id))
        if message is not None:
            items.append(
                Queued(
                    f"round:{round_.id}:{student.id}",
                    student.chat_id,
                    "round",
                    message,
                    cohort.id,
                    round_.id,
                    student.id,
                )
            )
    if round_.kind == "reminder":  # the werkbegeleiders' one reminder rides on the students'
        items += await observation.reminder_messages(session, cohort, round_.week, round_.id)
    return items


async def _prepare_in_bulk(
    session: Session, round_: RoundRecord, member_ids: list[int]
) -> dict[int, str]:
    """The rows every student of the round needs, one insert for the whole class rather than
    one per student: the expectations' prompt tokens (returned by member id), the
    reflection's participations."""
    if round_.kind == "expectations":
        return await PromptRepo(session).ensure_many(round_.id, member_ids, EXPECTATIONS_KEY)
    if round_.kind == "reflection":
        await RoundRepo(session).add_participants(round_.id, member_ids)
    return {}


async def _expectations(
    session: Session,
    cohort: CohortRecord,
    round_: RoundRecord,
    student: MemberRecord,
    lang: str,
    now: datetime,
    token: str | None,  # the student's prompt token made in bulk (expectations only)
) -> Outgoing:
    week = (await plan_for(session, cohort)).week(round_.week, lang)
    override = expectations_override(cohort, round_.week, lang)  # the team's (/verwachting)
    if override is not None:
        week = week.model_copy(update={"expectations": override})
    assert token is not None  # made in bulk for every student with a chat
    return render_expectations(week, token, lang, weekly_phrase(cohort.reflection_at, lang))


async def _reflection(
    session: Session,
    cohort: CohortRecord,
    round_: RoundRecord,
    student: MemberRecord,
    lang: str,
    now: datetime,
    token: str | None,  # the student's prompt token made in bulk (expectations only)
) -> Outgoing | None:
    week = await reflection_week(session, round_, student.id, lang)  # with agreement follow-ups
    intro = t("round.reflection_intro", lang, week=round_.week, count=len(week.questions))
    written = sum(1 for q in week.questions if q.kind == "text")
    if written:  # no promise of "short questions" when one asks for a STARR story
        intro += " " + t("round.reflection_writing", lang, written=written)
    first = await ask_next(session, round_, student, lang, now, intro=intro)
    return first.message if isinstance(first, Ask) else first


async def _reminder(
    session: Session,
    cohort: CohortRecord,
    round_: RoundRecord,
    student: MemberRecord,
    lang: str,
    now: datetime,
    token: str | None,  # the student's prompt token made in bulk (expectations only)
) -> Outgoing | None:
    """Only to a student whose reflection of the same week is open and unfinished."""
    reflection = await RoundRepo(session).find(cohort.id, round_.week, "reflection")
    if reflection is None or not reflection.is_open:
        return None
    if await RoundRepo(session).is_completed(reflection.id, student.id):
        return None
    week = await reflection_week(session, reflection, student.id, lang)
    done = len(await AnswerRepo(session).of(reflection.id, student.id))
    text = t("round.reminder", lang, week=round_.week, done=done, total=len(week.questions))
    return Outgoing(text, [[(t("round.continue_button", lang), RESUME)]])


async def _digest(
    session: Session, cohort: CohortRecord, round_: RoundRecord, now: datetime
) -> list[Queued]:
    """The mentor team's digest of week N (sent Monday): it looks back at week N-1."""
    from bot.gaps.digest import build_digest
    from bot.loop.digest import meeting_messages

    meeting = await meeting_messages(session, cohort.id, now)  # before resolved gaps are marked
    messages = await build_digest(session, cohort.id, round_.week, now)
    messages[1:1] = meeting  # the text first, then the meeting and progress, then the chart
    chats = await team_chats(session, cohort.id)
    return [
        Queued(f"digest:{round_.id}:{index}:{chat}", chat, "digest", message, cohort.id, round_.id)
        for index, message in enumerate(messages)
        for chat in chats
    ]


EXPECTATIONS_OVERRIDE = "expectations_override"  # in cohort.gap_settings: {week: {lang: text}}


def override_versions(value: object) -> dict[str, str]:
    """A week's stored texts by language; a plain text (stored before there were versions)
    counts as the Dutch one."""
    if isinstance(value, str):
        return {"nl": value}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(v, str) and v.strip()}
    return {}


def expectations_override(cohort: CohortRecord, week: int, lang: str = "nl") -> str | None:
    """The mentor team's own expectations text for `week`, if they set one (/verwachting):
    the version in `lang`, else the other one as written (the team's word for the week
    beats the plan's text in the reader's language)."""
    overrides = cohort.gap_settings.get(EXPECTATIONS_OVERRIDE) or {}
    raw = overrides.get(str(week)) if isinstance(overrides, dict) else None
    versions = override_versions(raw)
    return versions.get(lang) or next(iter(versions.values()), None)
