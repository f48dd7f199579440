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
class InboxRecord:
    """One stored update: `payload` is the update as Telegram sent it."""

    id: int
    update_id: int
    user_key: int
    payload: dict[str, Any]
    status: str
    attempts: int
    claimed_by: str | None
    last_error: str | None
    received_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True)
class LeaseRecord:
    """A running instance's lease: alive while `expires_at` is ahead."""

    instance_id: str
    host: str
    pid: int
    started_at: datetime
    renewed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Reaped:
    """What taking back a dead instance's work found: outbox rows that were in flight (each a
    possible repeat), updates put back to pending, and updates parked (their last try)."""

    outbox: int = 0
    inbox: int = 0
    parked: int = 0
