"""A student's own data: the export behind /mijngegevens and leaving
with /stop. No Telegram here: handlers/privacy.py turns these results into replies.

Leaving (`stop_student`) always stops the rounds at once: the membership becomes `stopped`
(rounds go to `active` members only), its pending outbox rows are cancelled, and the Telegram
number and chat are blanked, so the bot can never write to the student again and the same
person can join again later with a new code. What happens to the rest follows
`MENTORBOT_DELETE_ON_STOP`:

* true  – everything about the student is deleted, the member row included (not renamed to
  "verwijderd": a row that says nothing is of no use to the team and still counts as a person);
* false – name, answers, questions and alerts stay for the mentor team until the retention
  period (`bot.people.retention`) removes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team, team_language
from bot.people.workplace_data import observations_about
from bot.texts import t
from storage.db import Session
from storage.records import MemberRecord
from storage.repos import CohortRepo
from storage.repos.alerts import AuditRepo
from storage.repos.loop import AgreementRepo, ComplimentRepo, NoteRepo
from storage.repos.privacy import ErasureRepo, OwnDataRepo

EXPORT_FILENAME = "mijngegevens.json"
EXPORT_FORMAT = "mentorbot-mijngegevens-1"
STOP_PREFIX = "st:"
STOP_YES = "st:y:"
STOP_NO = "st:n:"
STOP_PATTERN = r"^st:[yn]:\d{1,12}$"
STOPPED = "stopped"
CANCELLED_ERROR = "stopped"


def own_student(memberships: tuple[MemberRecord, ...]) -> MemberRecord | None:
    """The student membership this Telegram user may see and end: the active one, else one
    that is still linked but not active (e.g. `unreachable` after a block)."""
    students = [m for m in memberships if m.role == "student" and m.status != STOPPED]
    active = [m for m in students if m.is_active]
    if active:
        return active[-1]
    return students[-1] if students else None


# ----------------------------------------------------------------------------- export


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def export_data(session: Session, member: MemberRecord, now: datetime) -> dict[str, Any]:
    """Everything stored about this student, as plain JSON values: nothing of anyone else."""
    cohort = await CohortRepo(session).get(member.cohort_id)
    own = OwnDataRepo(session)
    language = None
    if member.telegram_user_id is not None:
        language = await own.language(member.telegram_user_id)
    return {
        "format": EXPORT_FORMAT,
        "created_at": _iso(now),
        "membership": {
            "name": member.name,
            "organisation": member.organisation,
            "cohort": cohort.name if cohort is not None else None,
            "role": member.role,
            "status": member.status,
            "joined_at": _iso(member.joined_at),
            "consent": {
                "given_at": _iso(member.consent_at),
                "text_version": member.consent_version,
            },
            "telegram_user_id": member.telegram_user_id,
            "telegram_chat_id": member.chat_id,
        },
        "settings": {"language": language or "nl", "language_chosen": language is not None},
        "answers": await own.answers(member.id),
        "rounds": await own.participations(member.id),
        "questions_sent_to_you": await own.prompts(member.id),
        "questions_to_mentor_team": await own.questions(member.id),
        "alerts_about_you": [
            {**alert, "evidence": _own_evidence(alert["evidence"], member.id)}
            for alert in await own.alerts(member.id)
        ],
        "workplace_observations_about_you": await observations_about(session, member.id),
        **await _loop(session, member.id),
        "viewed_by_mentor_team": await own.views(member.cohort_id, member.id),
    }


async def _loop(session: Session, member_id: int) -> dict[str, Any]:
    """Agreements with them (how they and, when shared, their werkbegeleider said it went),
    compliments to them, and the mentor team's meeting notes about them (bot.loop)."""
    agreements = await AgreementRepo(session).of_member(member_id)
    compliments = await ComplimentRepo(session).of_member(member_id)
    notes = await NoteRepo(session).of_member(member_id)
    return {
        "agreements_with_you": [
            {
                "text": a.text,
                "made_by": a.made_by,
                "made_at": _iso(a.made_at),
                "follow_up_week": a.follow_up_week,
                "outcome": a.outcome,
                "your_words": a.outcome_note,
                # a shared agreement: what the werkbegeleider said (as their observations are)
                "workplace_outcome": a.workplace_outcome,
                "workplace_words": a.workplace_note,
            }
            for a in agreements
        ],
        "compliments_to_you": [
            {"text": c.text, "by": c.written_by, "at": _iso(c.created_at)} for c in compliments
        ],
        "meeting_notes_about_you": [
            {"text": n.text, "by": n.written_by, "at": _iso(n.created_at)} for n in notes
        ],
    }


def _own_evidence(evidence: dict[str, Any], member_id: int) -> dict[str, Any]:
    """The alert's evidence without any item about another student (class figures stay:
    they are totals, not people)."""
    items = [
        item
        for item in evidence.get("items", [])
        if isinstance(item, dict) and item.get("student_id") in (None, member_id)
    ]
    return {"weeks": list(evidence.get("weeks", [])), "items": items}


def export_json(data: dict[str, Any]) -> bytes:
    """The export as readable UTF-8 JSON (accents and emoji kept as they are)."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------- stop


@dataclass(frozen=True)
class Stopped:
    """What `stop_student` did."""

    member_id: int
    cohort_id: int
    deleted: bool
    cancelled: int  # pending outbox rows that will not be sent
    removed: int  # rows deleted (0 when the data is kept)
    team_told: int  # notices queued to the team (0 on a repeat)


async def stop_student(
    session: Session, member: MemberRecord, *, delete_data: bool, now: datetime
) -> Stopped | None:
    """End this student's membership in the caller's transaction; None when it was already
    ended (a double tap, another instance): then nothing changes and nobody is told twice."""
    erasure = ErasureRepo(session)
    if not await erasure.claim_stop(member.id):
        return None
    cohort = await CohortRepo(session).get(member.cohort_id)
    fate = "privacy.team_fate_deleted" if delete_data else "privacy.team_fate_kept"
    lang = await team_language(session, member.cohort_id)
    notice = t(
        "privacy.team_stopped",
        lang,
        name=member.name,
        cohort=cohort.name if cohort is not None else "",
        fate=t(fate, lang),
    )
    told = await notify_team(
        session, member.cohort_id, f"stopped:{member.id}", Outgoing(notice), now
    )
    cancelled = await erasure.cancel_pending(member.id, CANCELLED_ERROR)
    removed = 0
    if delete_data:
        removed = await delete_student_data(session, member)
    else:
        # a student who left has no open gap any more: closed quietly, so that the retention
        # period can remove them
        await erasure.close_alerts(member.id, now)
    if member.telegram_user_id is not None:
        # the language choice is tied to the Telegram number: gone once no membership uses it
        await erasure.forget_user_settings(member.telegram_user_id)
    await AuditRepo(session).add(
        None,
        member.cohort_id,
        "student_stopped",
        f"member:{member.id}:{'deleted' if delete_data else 'kept'}",
        now,
    )
    return Stopped(member.id, member.cohort_id, delete_data, cancelled, removed, told)


async def delete_student_data(session: Session, member: MemberRecord) -> int:
    """Delete everything about one student, the member row last; returns the rows deleted."""
    return await ErasureRepo(session).delete_student(member.id, member.cohort_id)
