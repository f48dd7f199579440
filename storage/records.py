"""Plain dataclasses that repositories return: no session, no lazy loading, safe to pass on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class CohortRecord:
    id: int
    name: str
    timezone: str
    start_date: date
    expectations_at: str
    reflection_at: str
    reminder_at: str
    digest_at: str
    plan_version: int
    group_chat_id: int | None
    schedule_version: int
    gap_settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberRecord:
    id: int
    cohort_id: int
    role: str
    name: str
    organisation: str | None
    telegram_user_id: int | None
    chat_id: int | None
    status: str
    consent_at: datetime | None
    consent_version: str | None
    joined_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class InviteRecord:
    code: str
    cohort_id: int
    role: str
    member_id: int | None
    single_use: bool
    expires_at: datetime | None
    used_at: datetime | None


@dataclass(frozen=True)
class ClassGapRecord:
    """A class_gap alert as the trends report reads it: never a member."""

    cohort_id: int
    skill: str
    is_open: bool
    weeks: tuple[int, ...]  # the evidence's round weeks


@dataclass(frozen=True)
class RaisedAlert:
    """An alert as the mentor team saw it: its kind, the student's name (None for the class)."""

    kind: str
    student: str | None
    skill: str | None
    week: int
    times_raised: int
    status: str
