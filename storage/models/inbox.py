"""Updates stored before Telegram is told they arrived, and the instances' leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
