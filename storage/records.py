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
    observation_at: str = "fri 16:00"
    observation_every: int = 1


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
    student_id: int | None = None


@dataclass(frozen=True)
class SupervisionRecord:
    id: int
    cohort_id: int
    werkbegeleider_id: int
    student_id: int
    linked_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class ObservationRecord:
    round_id: int
    week: int
    werkbegeleider_id: int
    student_id: int
    skill: str
    level: int | None  # None: niet gezien
    text: str | None
    answered_at: datetime


@dataclass(frozen=True)
class SignalRecord:
    id: int
    cohort_id: int
    member_id: int | None
    role: str
    text: str
    skill: str | None
    sent_at: datetime
