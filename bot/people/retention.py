"""Deleting what is kept longer than the retention period (MENTORBOT_RETENTION_DAYS).

Runs once at start and then daily (bot/services.py); every statement is a plain DELETE with a
cut-off, so running it twice, or on two instances at once, deletes nothing extra.

What goes, when it is older than the period:
* answers (by `answered_at`), and everything of a round that was due before the cut-off: its
  answers, participations (who got it, who finished) and prompts (the question messages);
* students' questions to the team (by `asked_at`), with their answers;
* alerts that are resolved (by `resolved_at`); open ones stay until they are resolved;
* finished outbox rows (sent, failed, unreachable; by `created_at`): they hold copies of
  alert and question texts;
* audit log entries (by `at`);
* werkbegeleiders' observations and lines (by `updated_at`, or their round), field signals
  (/signaal, by `sent_at`), and links a mentor ended or a /stop ended (by `ended_at`);
* students and werkbegeleiders who left with /stop while their data was kept, once nothing
  of theirs is left and they joined before the cut-off.
Rounds and cohorts stay: they say nothing about a person. The tables and their timestamps are
listed once, in `storage.personal_data`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from storage.db import Database, Session
from storage.repos.retention import RetentionRepo

log = logging.getLogger(__name__)


class RetentionSettings(Protocol):
    """What retention reads of the settings (the runtime's Settings has it)."""

    retention_days: int


def cutoff(settings: RetentionSettings, now: datetime) -> datetime:
    """Rows from before this moment are past the retention period."""
    return now - timedelta(days=settings.retention_days)


async def purge_expired(db: Database, settings: RetentionSettings, now: datetime) -> int:
    """Delete everything past the retention period (see the module text); returns how many
    rows went."""
    limit = cutoff(settings, now)
    async with db.transaction() as session:
        counts = await purge_in(session, limit)
    total = sum(counts.values())
    if total:
        log.info(
            "retention cutoff=%s %s",
            limit.date().isoformat(),
            " ".join(f"{name}={n}" for name, n in counts.items() if n),
        )
    return total


async def purge_in(session: Session, limit: datetime) -> dict[str, int]:
    """The purge in the caller's transaction; rows deleted per table."""
    return await RetentionRepo(session).purge(limit)
