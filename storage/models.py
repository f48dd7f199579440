"""The database schema (SQLAlchemy 2 declarative). Plain columns only: no pickled objects.

Every timestamp is stored as UTC; `UTCDateTime` makes SQLite (which keeps no zone) and
PostgreSQL return the same aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and always read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, int: Integer}  # noqa: RUF012


class Cohort(Base):
    """One class with its schedule, its plan and its mentor team."""

    __tablename__ = "cohorts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    start_date: Mapped[date] = mapped_column(Date)
    expectations_at: Mapped[str] = mapped_column(String(16), default="mon 08:00")
    reflection_at: Mapped[str] = mapped_column(String(16), default="fri 14:00")
    reminder_at: Mapped[str] = mapped_column(String(16), default="sun 18:00")
    digest_at: Mapped[str] = mapped_column(String(16), default="mon 07:00")
    observation_at: Mapped[str] = mapped_column(String(16), default="fri 16:00")
    observation_every: Mapped[int] = mapped_column(default=1)  # 1 weekly, 2 every other week
    plan_yaml: Mapped[str | None] = mapped_column(Text, default=None)
    plan_version: Mapped[int] = mapped_column(default=0)
    gap_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    schedule_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A person in a cohort: student, mentor or observer."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("cohort_id", "telegram_user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200), default=None)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    status: Mapped[str] = mapped_column(String(16), default="invited")
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_version: Mapped[str | None] = mapped_column(String(32), default=None)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invite(Base):
    """A join code; personal codes name one member, mentor codes are single use."""

    __tablename__ = "invites"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None
    )
    # a werkbegeleider's link names the student it supervises (member_id stays empty)
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None
    )
    single_use: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRefusal(Base):
    """A refusal of consent: no name, no Telegram id, only that it happened."""

    __tablename__ = "consent_refusals"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    refused_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSetting(Base):
    """Per Telegram user preferences that hold across cohorts (the language)."""

    __tablename__ = "user_settings"
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Round(Base):
    """One scheduled round of a cohort; unique per (cohort, week, kind) so it exists once."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("cohort_id", "week", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Participation(Base):
    """A student's progress through one round."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)


class Answer(Base):
    """One answer to one question; changing it updates the row, never adds one."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "question_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    rating: Mapped[int | None] = mapped_column(default=None)
    choice: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Prompt(Base):
    """A question message sent to a student; buttons carry only its opaque token."""

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "question_key"),)
    token: Mapped[str] = mapped_column(String(24), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message waiting to be sent; the sender claims rows and marks them before sending."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        # the claim's order: without it PostgreSQL sorts every pending row on each claim
        Index("ix_outbox_claim_order", "status", text("priority DESC"), "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), default=None
    )
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), default=None
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    repeats: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """A gap told to the mentor team; `open_key` is the fingerprint until it is resolved,
    so the unique constraint lets one gap be open at most once per cohort."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("cohort_id", "open_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(160))
    open_key: Mapped[str | None] = mapped_column(String(160), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None
    )
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_week: Mapped[int] = mapped_column(default=0)
    raise_count: Mapped[int] = mapped_column(default=1)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_week: Mapped[int | None] = mapped_column(default=None)
    discuss: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_until: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(String(32), default=None)
    """Why it was resolved when not by the rules alone: "after_agreement" (bot.loop)."""
    resolved_week: Mapped[int | None] = mapped_column(default=None)
    """The plan week of an "after_agreement" resolution: only later evidence raises it again."""


class StudentQuestion(Base):
    """A question a student put to the mentor team (/vraag), and the answer."""

    __tablename__ = "student_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer_text: Mapped[str | None] = mapped_column(Text, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(200), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Mentor actions kept for accountability: acknowledging, exporting, viewing a student."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cohort_id: Mapped[int | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(200), default=None)


class Supervision(Base):
    """A werkbegeleider linked to one student; `ended_at` set when a mentor unlinks them."""

    __tablename__ = "supervisions"
    __table_args__ = (UniqueConstraint("werkbegeleider_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    werkbegeleider_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class Observation(Base):
    """A werkbegeleider's tap on one skill of one student in one observation round.

    `level` 0 nooit, 1 oefenen, 2 voldoende, 3 goed; None is "niet gezien". The optional line
    at the end of a student's skills is a row of its own with `skill` NOTE_SKILL and `text`."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("round_id", "werkbegeleider_id", "student_id", "skill"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    werkbegeleider_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    skill: Mapped[str] = mapped_column(String(64))
    level: Mapped[int | None] = mapped_column(default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldSignal(Base):
    """A need seen in the field (/signaal), from a werkbegeleider or a mentor."""

    __tablename__ = "field_signals"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agreement(Base):
    """A leerafspraak of the mentor team with one student, and how it went (bot.loop).

    A draft (no text or no follow-up week yet) waits for the mentor's reply to the message
    `prompt_message_id` in `prompt_chat_id`; an active one is asked about in the student's
    reflection of `follow_up_week` until answered."""

    __tablename__ = "agreements"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), default=None
    )
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    made_by: Mapped[str] = mapped_column(String(200))
    made_by_user_id: Mapped[int] = mapped_column(BigInteger)
    prompt_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    made_week: Mapped[int] = mapped_column(default=0)
    follow_up_week: Mapped[int | None] = mapped_column(default=None)
    share_workplace: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    outcome_note: Mapped[str | None] = mapped_column(Text, default=None)
    outcome_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), default=None
    )
    outcome_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    # the werkbegeleider's view, asked in their observation only when the copy was shared
    workplace_outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    workplace_note: Mapped[str | None] = mapped_column(Text, default=None)
    workplace_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), default=None
    )
    workplace_outcome_at: Mapped[datetime | None] = mapped_column(default=None)
    workplace_by: Mapped[int | None] = mapped_column(  # the werkbegeleider who answered
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    on_agenda: Mapped[bool] = mapped_column(Boolean, default=False)
    discussed_at: Mapped[datetime | None] = mapped_column(default=None)


class LoopNote(Base):
    """A one-line note of the class meeting (Besproken) about one agenda item; `subject`
    names the item ("alert:12", "agreement:3", "question:5"). Pending while `text` is empty."""

    __tablename__ = "loop_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None, index=True
    )
    subject: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    written_by: Mapped[str] = mapped_column(String(200))
    written_by_user_id: Mapped[int] = mapped_column(BigInteger)
    prompt_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Compliment(Base):
    """A compliment of the mentor team to one student. Pending while `text` is empty."""

    __tablename__ = "compliments"
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str | None] = mapped_column(Text, default=None)
    written_by: Mapped[str] = mapped_column(String(200))
    written_by_user_id: Mapped[int] = mapped_column(BigInteger)
    prompt_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class InboxUpdate(Base):
    """A Telegram update as received, stored before Telegram is told it arrived.

    pending → handling (claimed by one instance) → handled | parked (failed three times).
    `user_key` is the user (or chat) the update belongs to: one user's updates are handled one
    at a time, in `update_id` order. Holds raw updates (names, texts): pruned a day after they
    were handled."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_status_user_key", "status", "user_key", "update_id"),
        Index("ix_inbox_claimed_by", "claimed_by"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    user_key: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)


class InstanceLease(Base):
    """A running instance, alive while `expires_at` is ahead: it renews the lease every few
    seconds; work claimed by an instance whose lease lapsed is taken back at once."""

    __tablename__ = "instance_leases"
    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
