"""Classes and their members: cohorts, members, join codes, consent refusals, per-user settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
    # bumped by the database's triggers (migration 0008), never by code: what the gap check
    # keeps of the cohort (closed rounds, members) changed — see bot.gaps.check
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")
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
