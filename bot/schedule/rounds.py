"""Opening a round: created once per (cohort, week, kind), its messages queued in the outbox
in the same transaction, so a crash leaves either the whole round or none of it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
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
from bot.outbox.queue import Outgoing, Queued, queue_new
from bot.outbox.team import team_chats
from bot.plans import ResolvedWeek
from bot.plans.store import plan_for
from bot.schedule.next_round import weekly_phrase
from bot.texts import normalise_language, t
from storage.db import Database, Session
from storage.records import CohortRecord, MemberRecord, RoundRecord
from storage.repos import CohortRepo, MemberRepo, UserSettingsRepo
from storage.repos.opening import OpeningRepo
from storage.repos.rounds import AnswerRepo, RoundRepo

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


@dataclass(frozen=True)
class Due:
    """A round to open: the scheduler's (cohort, plan week, kind) at its due moment."""

    cohort_id: int
    week: int
    kind: str
    due_at: datetime


async def open_round(
    db: Database, cohort_id: int, week: int, kind: str, due_at: datetime, now: datetime
) -> OpenedRound:
    """Create the round if it does not exist and queue its messages; idempotent."""
    if kind not in KINDS:
        raise ValueError(f"unknown round kind {kind!r}")
    async with db.transaction() as session:
        opened = await _open_in(session, [Due(cohort_id, week, kind, due_at)], None, now)
        if not opened:
            round_ = await RoundRepo(session).find(cohort_id, week, kind)
            assert round_ is not None
            return OpenedRound(round_, False)
    return opened[0]


@dataclass
class Opened:
    """What `open_rounds` did: the rounds created now, and those that failed (logged)."""

    rounds: list[OpenedRound] = field(default_factory=list)
    failed: list[Due] = field(default_factory=list)


async def open_rounds(
    db: Database,
    due: Sequence[Due],
    now: datetime,
    *,
    cohorts: Mapping[int, CohortRecord] | None = None,
    per_transaction: int = 100,
) -> Opened:
    """Open many rounds due at one moment (every cohort whose expectations are due Monday
    08:00): a transaction per `per_transaction` rounds, each written in bulk, rather than one
    per cohort. The rounds created now are those `open_round` would have created (each is
    created once: an instance racing with the same rounds waits for the other's commit, then
    finds them made). At most one round per cohort and kind. A batch that fails is opened
    again one round at a time, so one broken cohort costs only its own round."""
    unknown = {d.kind for d in due} - set(KINDS)
    if unknown:
        raise ValueError(f"unknown round kind(s): {sorted(unknown)}")
    # the same order on every instance: racing writers wait for each other, never deadlock
    ordered = sorted(set(due), key=lambda d: (d.cohort_id, d.week, KINDS.index(d.kind)))
    result = Opened()
    for start in range(0, len(ordered), per_transaction):
        batch = ordered[start : start + per_transaction]
        try:
            async with db.transaction() as session:
                result.rounds += await _open_in(session, batch, cohorts, now)
        except Exception:
            log.exception("opening %s rounds together failed; one at a time now", len(batch))
            await _one_by_one(db, batch, now, result)
    return result


async def _one_by_one(db: Database, batch: Sequence[Due], now: datetime, into: Opened) -> None:
    for d in batch:
        try:
            opened = await open_round(db, d.cohort_id, d.week, d.kind, d.due_at, now)
        except Exception:
            log.exception("opening the %s round of cohort %s failed", d.kind, d.cohort_id)
            into.failed.append(d)
            continue
        if opened.created:
            into.rounds.append(opened)


async def _open_in(
    session: Session,
    due: Sequence[Due],
    cohorts: Mapping[int, CohortRecord] | None,
    now: datetime,
) -> list[OpenedRound]:
    """In the caller's transaction: create the rounds that do not exist yet, close the open
    round each replaces, queue their messages (a crash leaves all of it or none)."""
    opening = OpeningRepo(session)
    created = await opening.rounds([(d.cohort_id, d.week, d.kind, d.due_at) for d in due])
    if not created:
        return []
    # answers may change until the next round of the same kind opens
    closed = await opening.close_others([r for r in created if r.kind in ANSWERED_KINDS], now)
    records = await _cohorts_of(session, {r.cohort_id for r in created}, cohorts)
    # messages in the order of KINDS, as the rounds fall due: a reflection before its reminder
    created.sort(key=lambda r: (KINDS.index(r.kind), r.cohort_id))
    items: list[Queued] = await _expectations_in_bulk(
        session, [(records[r.cohort_id], r) for r in created if r.kind == "expectations"]
    )
    for r in created:
        if r.kind != "expectations":
            items += await _messages(session, records[r.cohort_id], r, now)
    new = set(await queue_new(session, items, now))
    per_round = Counter(item.round_id for item in items if item.dedupe_key in new)
    for r in created:
        log.info("round opened cohort=%s week=%s kind=%s queued=%s",
                 r.cohort_id, r.week, r.kind, per_round[r.id])  # fmt: skip
    return [OpenedRound(r, True, per_round[r.id], closed.get(r.id, [])) for r in created]


async def _cohorts_of(
    session: Session, ids: set[int], known: Mapping[int, CohortRecord] | None
) -> dict[int, CohortRecord]:
    """The cohorts of the new rounds: the caller's records (read just before) or each read."""
    found = {i: known[i] for i in ids if known is not None and i in known}
    for cohort_id in ids - set(found):
        cohort = await CohortRepo(session).get(cohort_id)
        assert cohort is not None
        found[cohort_id] = cohort
    return found


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
    students = [s for s in students if s.chat_id is not None]
    languages = await UserSettingsRepo(session).languages(
        [s.telegram_user_id for s in students if s.telegram_user_id]
    )
    langs = {s.id: normalise_language(languages.get(s.telegram_user_id or 0)) for s in students}
    if round_.kind == "reflection":
        await RoundRepo(session).add_participants(round_.id, [s.id for s in students])
    build = {"reflection": _reflection, "reminder": _reminder}.get(round_.kind)
    if build is None:
        return []
    messages = {s.id: await build(session, cohort, round_, s, langs[s.id], now)
                for s in students}  # fmt: skip
    items = [
        _to_student(round_, s, message) for s in students if (message := messages[s.id]) is not None
    ]
    if round_.kind == "reminder":  # the werkbegeleiders' one reminder rides on the students'
        items += await observation.reminder_messages(session, cohort, round_.week, round_.id)
    return items


async def _expectations_in_bulk(
    session: Session, rounds: list[tuple[CohortRecord, RoundRecord]]
) -> list[Queued]:
    """The expectations of many cohorts at once: their students in one query, the prompt
    tokens in one insert, the week resolved once per cohort and language."""
    if not rounds:
        return []
    round_of = {cohort.id: round_ for cohort, round_ in rounds}
    cohort_of = {cohort.id: cohort for cohort, _round in rounds}
    students = [s for s in await MemberRepo(session).active_students(list(round_of)) if s.chat_id]
    languages = await UserSettingsRepo(session).languages(
        [s.telegram_user_id for s in students if s.telegram_user_id]
    )
    tokens = await OpeningRepo(session).prompts(
        [(round_of[s.cohort_id].id, s.id) for s in students], EXPECTATIONS_KEY
    )
    weeks: dict[tuple[int, str], tuple[ResolvedWeek, str]] = {}
    items = []
    for student in students:
        cohort, round_ = cohort_of[student.cohort_id], round_of[student.cohort_id]
        lang = normalise_language(languages.get(student.telegram_user_id or 0))
        if (cohort.id, lang) not in weeks:
            weeks[cohort.id, lang] = await _expectations_week(session, cohort, round_.week, lang)
        week, when = weeks[cohort.id, lang]
        message = render_expectations(week, tokens[round_.id, student.id], lang, when)
        items.append(_to_student(round_, student, message))
    return items


def _to_student(round_: RoundRecord, student: MemberRecord, message: Outgoing) -> Queued:
    assert student.chat_id is not None
    key = f"round:{round_.id}:{student.id}"
    return Queued(key, student.chat_id, "round", message, round_.cohort_id, round_.id, student.id)


async def _expectations_week(
    session: Session, cohort: CohortRecord, week_number: int, lang: str
) -> tuple[ResolvedWeek, str]:
    """The week's text in `lang` and the reflection moment; the same for the whole class, so
    `_messages` keeps it per language (the plan's YAML is a query when the cohort has one)."""
    week = (await plan_for(session, cohort)).week(week_number, lang)
    override = expectations_override(cohort, week_number, lang)  # the team's (/verwachting)
    if override is not None:
        week = week.model_copy(update={"expectations": override})
    return week, weekly_phrase(cohort.reflection_at, lang)


async def _reflection(
    session: Session,
    cohort: CohortRecord,
    round_: RoundRecord,
    student: MemberRecord,
    lang: str,
    now: datetime,
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
