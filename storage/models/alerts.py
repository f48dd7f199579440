"""What the mentor team is told and does: alerts, students' questions, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
