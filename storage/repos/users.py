"""Per-user preferences that hold across cohorts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UserSetting, utcnow


class UserSettingsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def language(self, telegram_user_id: int) -> str | None:
        return await self.session.scalar(
            select(UserSetting.language).where(UserSetting.telegram_user_id == telegram_user_id)
        )

    async def set_language(self, telegram_user_id: int, language: str) -> None:
        row = await self.session.get(UserSetting, telegram_user_id)
        if row is None:
            self.session.add(UserSetting(telegram_user_id=telegram_user_id, language=language))
        else:
            row.language = language
            row.updated_at = utcnow()
        await self.session.flush()

    async def languages(self, telegram_user_ids: list[int]) -> dict[int, str]:
        """Chosen languages of many users at once (users without a choice are absent)."""
        if not telegram_user_ids:
            return {}
        rows = await self.session.execute(
            select(UserSetting.telegram_user_id, UserSetting.language).where(
                UserSetting.telegram_user_id.in_(telegram_user_ids)
            )
        )
        return {user_id: language for user_id, language in rows}
