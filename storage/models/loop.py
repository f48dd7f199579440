"""From alert to agreement to outcome: agreements, meeting notes, compliments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
