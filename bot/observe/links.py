"""Joining as a werkbegeleider: the student's personal link (single use, 14 days), checking
it, consent, the link itself, and a mentor unlinking a werkbegeleider from a student."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.outbox.queue import Outgoing
from bot.outbox.team import notify_team
from bot.texts import catalogue, t
from storage.db import Session
from storage.records import CohortRecord, InviteRecord, MemberRecord, SupervisionRecord
from storage.repos import CohortRepo, InviteRepo, MemberRepo
from storage.repos.observations import SupervisionRepo

ROLE = "werkbegeleider"
LINK_DAYS = 14
MAX_PER_STUDENT = 2  # a change of placement: the old and the new werkbegeleider


class LinkProblem(Enum):
    UNKNOWN = "enrol.code_unknown"
    USED = "observe.link_used"
    EXPIRED = "observe.link_expired"
    OWN = "observe.link_own"  # the student, or anyone else of the class, opened it
    FULL = "observe.link_full"  # the student has two werkbegeleiders already
    ALREADY = "observe.link_already"  # this werkbegeleider supervises the student already


@dataclass(frozen=True)
class LinkOffer:
    """A usable werkbegeleider link: the class and the student it leads to."""

    invite: InviteRecord
    cohort: CohortRecord
    student: MemberRecord


@dataclass(frozen=True)
class Linked:
    werkbegeleider: MemberRecord
    student: MemberRecord
    cohort: CohortRecord
    first: bool  # their first student in this class: the role menu is new


def consent_version() -> str:
    """Changes whenever the werkbegeleider's consent text changes; stored with the consent."""
    texts = catalogue()["observe.consent"]
    digest = hashlib.sha256("\n".join(texts[k] for k in sorted(texts)).encode()).hexdigest()
    return f"wb-consent-{digest[:10]}"


async def new_link(session: Session, student: MemberRecord, now: datetime) -> InviteRecord:
    """A personal link for the student's werkbegeleider: single use, valid 14 days."""
    return await InviteRepo(session).create(
        student.cohort_id,
        ROLE,
        student_id=student.id,
        single_use=True,
        expires_at=now + timedelta(days=LINK_DAYS),
    )


async def is_link(session: Session, code: str) -> bool:
    """Whether the code is a werkbegeleider's link (so /start routes it here)."""
    invite = await InviteRepo(session).get(code) if _plausible(code) else None
    return invite is not None and invite.role == ROLE


async def inspect_link(
    session: Session, code: str, user_id: int, now: datetime
) -> LinkOffer | LinkProblem:
    """Can this user open this link? Changes nothing."""
    invite = await InviteRepo(session).get(code) if _plausible(code) else None
    if invite is None or invite.role != ROLE or invite.student_id is None:
        return LinkProblem.UNKNOWN
    cohort = await CohortRepo(session).get(invite.cohort_id)
    student = await MemberRepo(session).get(invite.student_id)
    if cohort is None or student is None or not student.is_active:
        return LinkProblem.UNKNOWN
    mine = await _membership(session, cohort.id, user_id)
    if mine is not None and mine.role != ROLE:
        return LinkProblem.OWN
    current = await SupervisionRepo(session).of_student(student.id)
    if mine is not None and mine.is_active and any(s.werkbegeleider_id == mine.id for s in current):
        return LinkProblem.ALREADY  # also a double tap on "Ik ga akkoord": nothing to do
    if invite.used_at is not None:
        return LinkProblem.USED
    if invite.expires_at is not None and invite.expires_at <= now:
        return LinkProblem.EXPIRED
    if len(current) >= MAX_PER_STUDENT:
        return LinkProblem.FULL
    return LinkOffer(invite, cohort, student)


async def accept(
    session: Session,
    code: str,
    *,
    user_id: int,
    chat_id: int,
    display_name: str,
    now: datetime,
) -> Linked | LinkProblem:
    """Consent given: use the link, make (or reuse) the werkbegeleider, link the student."""
    offer = await inspect_link(session, code, user_id, now)
    if isinstance(offer, LinkProblem):
        return offer
    if not await InviteRepo(session).mark_used(code, now):
        return LinkProblem.USED
    members = MemberRepo(session)
    mine = await _membership(session, offer.cohort.id, user_id)
    if mine is None:
        member_id = await members.add_active(
            offer.cohort.id,
            ROLE,
            name=display_name,
            telegram_user_id=user_id,
            chat_id=chat_id,
            consent_version=consent_version(),
            now=now,
        )
    else:
        member_id = mine.id
        if not mine.is_active:  # back after /stop: the same row, a new consent
            await members.activate(
                mine.id,
                telegram_user_id=user_id,
                chat_id=chat_id,
                name=display_name,
                consent_version=consent_version(),
                now=now,
            )
    await SupervisionRepo(session).link(offer.cohort.id, member_id, offer.student.id, now)
    member = await members.get(member_id)
    assert member is not None
    # the mentor team hears who observes whom (in Dutch, the team's language); /student shows it
    notice = t("observe.team_linked", "nl", werkbegeleider=member.name, student=offer.student.name)
    await notify_team(session, offer.cohort.id, f"wb-linked:{code}", Outgoing(notice), now)
    return Linked(member, offer.student, offer.cohort, first=mine is None or not mine.is_active)


async def refuse(session: Session, offer: LinkOffer, now: datetime) -> None:
    """Keep only that a refusal happened: the class and the role, no person."""
    await InviteRepo(session).record_refusal(offer.cohort.id, ROLE, now)


async def unlink(
    session: Session, supervision_id: int, mentor_cohorts: list[int], now: datetime
) -> tuple[MemberRecord, MemberRecord] | None:
    """A mentor of the student's class ends a link: (werkbegeleider, student), or None when
    the link is unknown, ended already, or of another class."""
    repo = SupervisionRepo(session)
    found = await repo.get(supervision_id)
    if found is None or found.cohort_id not in mentor_cohorts or found.ended_at is not None:
        return None
    await repo.end(supervision_id, now)
    members = MemberRepo(session)
    werkbegeleider = await members.get(found.werkbegeleider_id)
    student = await members.get(found.student_id)
    if werkbegeleider is None or student is None:
        return None
    return werkbegeleider, student


async def linked_to(
    session: Session, student_id: int
) -> list[tuple[SupervisionRecord, MemberRecord]]:
    """The student's current werkbegeleiders, with their link."""
    members = MemberRepo(session)
    result = []
    for link in await SupervisionRepo(session).of_student(student_id):
        member = await members.get(link.werkbegeleider_id)
        if member is not None:
            result.append((link, member))
    return result


async def _membership(session: Session, cohort_id: int, user_id: int) -> MemberRecord | None:
    """The user's row in the class, active or not (a user has one row per class)."""
    memberships = await MemberRepo(session).of_user(user_id)
    return next((m for m in memberships if m.cohort_id == cohort_id), None)


def _plausible(code: str) -> bool:
    return 0 < len(code) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in code)
