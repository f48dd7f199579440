"""Joining a cohort with a code: checking it, consent, enrolling, and refusing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.texts import catalogue
from storage.db import Session
from storage.records import CohortRecord, InviteRecord, MemberRecord
from storage.repos import CohortRepo, InviteRepo, MemberRepo


class CodeProblem(Enum):
    UNKNOWN = "enrol.code_unknown"
    USED = "enrol.code_used"
    EXPIRED = "enrol.code_expired"


@dataclass(frozen=True)
class Offer:
    """A valid code and the cohort it leads to."""

    invite: InviteRecord
    cohort: CohortRecord


@dataclass(frozen=True)
class Joined:
    member: MemberRecord
    cohort: CohortRecord
    already: bool = False


def consent_version() -> str:
    """A version that changes whenever the consent text changes, stored with each consent."""
    texts = catalogue()["consent.explain"]
    digest = hashlib.sha256("\n".join(texts[k] for k in sorted(texts)).encode()).hexdigest()
    return f"consent-{digest[:10]}"


async def inspect_code(session: Session, code: str, now: datetime) -> Offer | CodeProblem:
    """Is this code usable? Changes nothing."""
    invite = await InviteRepo(session).get(code) if _plausible(code) else None
    if invite is None:
        return CodeProblem.UNKNOWN
    if invite.expires_at is not None and invite.expires_at <= now:
        return CodeProblem.EXPIRED
    if invite.single_use and invite.used_at is not None:
        return CodeProblem.USED
    cohort = await CohortRepo(session).get(invite.cohort_id)
    if cohort is None:
        return CodeProblem.UNKNOWN
    return Offer(invite, cohort)


def _plausible(code: str) -> bool:
    return 0 < len(code) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in code)


async def membership_by_code(
    session: Session, code: str, user_id: int
) -> tuple[MemberRecord, CohortRecord] | None:
    """The user's active membership in the cohort this code leads to (used or not)."""
    invite = await InviteRepo(session).get(code) if _plausible(code) else None
    if invite is None:
        return None
    member = await existing_membership(session, invite.cohort_id, user_id)
    cohort = await CohortRepo(session).get(invite.cohort_id)
    return (member, cohort) if member is not None and cohort is not None else None


async def existing_membership(
    session: Session, cohort_id: int, user_id: int
) -> MemberRecord | None:
    memberships = await MemberRepo(session).of_user(user_id)
    return next((m for m in memberships if m.cohort_id == cohort_id and m.is_active), None)


async def join(
    session: Session,
    code: str,
    *,
    user_id: int,
    chat_id: int,
    display_name: str,
    now: datetime,
) -> Joined | CodeProblem:
    """Enrol the user with the code, in the caller's transaction; idempotent for a member."""
    known = await membership_by_code(session, code, user_id)
    if known is not None:  # a double tap on "agree", or /start again: idempotent
        return Joined(known[0], known[1], already=True)
    offer = await inspect_code(session, code, now)
    if isinstance(offer, CodeProblem):
        return offer
    invite, cohort = offer.invite, offer.cohort
    if invite.single_use and not await InviteRepo(session).mark_used(code, now):
        return CodeProblem.USED
    members = MemberRepo(session)
    version = consent_version() if invite.role == "student" else None
    if invite.member_id is not None:
        await members.activate(
            invite.member_id,
            telegram_user_id=user_id,
            chat_id=chat_id,
            name=None,
            consent_version=version,
            now=now,
        )
        member_id = invite.member_id
    else:
        member_id = await members.add_active(
            cohort.id,
            invite.role,
            name=display_name,
            telegram_user_id=user_id,
            chat_id=chat_id,
            consent_version=version,
            now=now,
        )
    member = await members.get(member_id)
    assert member is not None
    return Joined(member, cohort)


async def refuse(session: Session, offer: Offer, now: datetime) -> None:
    """Keep only that a refusal happened: the cohort and role, no person."""
    await InviteRepo(session).record_refusal(offer.cohort.id, offer.invite.role, now)
