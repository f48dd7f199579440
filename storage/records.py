"""Plain dataclasses that repositories return: no session, no lazy loading, safe to pass on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple


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


@dataclass(frozen=True)
class RoundRecord:
    id: int
    cohort_id: int
    week: int
    kind: str
    status: str
    due_at: datetime
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer: a student's, to one question of one round."""

    round_id: int
    member_id: int
    question_key: str
    kind: str
    skill: str | None
    rating: int | None
    choice: str | None
    text: str | None
    skipped: bool
    answered_at: datetime


class AnswerRow(NamedTuple):
    """What the per-answer gap check reads of an open round's answer (`GapQuery.state`): an
    `AnswerRecord`'s fields without the time it was given, which the rules do not look at. A
    tuple: a check reads ~100 of them, and a frozen dataclass with its time made aware cost
    ~5 µs per row more (docs/benchmarks.md §3, tenth step)."""

    round_id: int
    member_id: int
    question_key: str
    kind: str
    skill: str | None
    rating: int | None
    choice: str | None
    text: str | None
    skipped: bool


@dataclass(frozen=True)
class SignalRecord:
    id: int
    cohort_id: int
    member_id: int | None
    role: str
    text: str
    skill: str | None
    sent_at: datetime


@dataclass(frozen=True)
class StoredAnswer(AnswerRecord):
    """An answer with its round's week and the student's name (overviews, export)."""

    week: int
    student: str


@dataclass(frozen=True)
class StoredParticipation:
    round_id: int
    member_id: int
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class PromptRecord:
    token: str
    round_id: int
    member_id: int
    question_key: str
    message_id: int | None


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    cohort_id: int
    member_id: int
    text: str
    asked_at: datetime
    answer_text: str | None
    answered_by: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class WeekStatus:
    week: int
    completed: bool
    ratings: tuple[tuple[str, int], ...]  # (skill, rating)


@dataclass(frozen=True)
class NewAlert:
    """An alert to open (`AlertRepo.raise_all`) with its message to the team, whose drafts
    have `storage.repos.outbox.NEW_ID` where the alert's id goes."""

    fingerprint: str
    kind: str
    member_id: int | None
    skill: str | None
    evidence: dict[str, Any]
    message: tuple[OutboxDraft, ...] = ()


@dataclass(frozen=True)
class AlertRecord:
    id: int
    cohort_id: int
    fingerprint: str
    kind: str
    member_id: int | None
    skill: str | None
    status: str
    evidence: dict[str, Any]
    raised_week: int
    raise_count: int
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_week: int | None
    discuss: bool
    muted_until: datetime | None
    resolved_at: datetime | None
    resolution_reported: bool
    resolution: str | None = None  # "after_agreement" when an agreement closed it (bot.loop)

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


@dataclass(frozen=True)
class OutboxDraft:
    """A message to queue; `dedupe_key` makes queuing it twice harmless."""

    dedupe_key: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    priority: int = 0
    attachment: bytes | None = None
    not_before: datetime | None = None
    cohort_id: int | None = None
    round_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row as read from the database; safe to pass on after the session closed."""

    id: int
    dedupe_key: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attachment: bytes | None
    priority: int
    status: str
    attempts: int
    not_before: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    telegram_message_id: int | None
    repeats: int
    last_error: str | None
    cohort_id: int | None = None
    round_id: int | None = None
    member_id: int | None = None
    created_at: datetime | None = field(default=None, compare=False)


# ----------------------------------------------------------------------------- bot.loop


@dataclass(frozen=True)
class AgreementRecord:
    id: int
    cohort_id: int
    member_id: int
    alert_id: int | None
    skill: str | None
    text: str | None
    status: str
    made_by: str
    made_by_user_id: int
    made_at: datetime
    made_week: int
    follow_up_week: int | None
    share_workplace: bool
    outcome: str | None
    outcome_note: str | None
    outcome_round_id: int | None
    outcome_at: datetime | None
    outcome_applied: bool
    workplace_outcome: str | None
    workplace_note: str | None
    workplace_round_id: int | None
    workplace_outcome_at: datetime | None
    workplace_by: int | None
    on_agenda: bool
    discussed_at: datetime | None


@dataclass(frozen=True)
class NoteRecord:
    id: int
    cohort_id: int
    member_id: int | None
    subject: str
    text: str | None
    written_by: str
    created_at: datetime


@dataclass(frozen=True)
class ComplimentRecord:
    id: int
    cohort_id: int
    member_id: int
    alert_id: int | None
    text: str | None
    written_by: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class OpenQuestion:
    id: int
    member_id: int
    text: str
    asked_at: datetime


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
