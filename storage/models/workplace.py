"""The werkbegeleider's side: supervisions, observations, field signals (/signaal)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
