"""TELEGRAM_API_BASE_URL forgives python-telegram-bot's own convention (a trailing `/bot`)."""

from __future__ import annotations

import pytest

from bot.app.application import build_application
from bot.app.embedded import running
from bot.texts import t
from tests.conftest import make_settings
from tgsandbox import SandboxServer


@pytest.mark.parametrize("suffix", ["", "/", "/bot", "/bot/"])
async def test_the_bot_answers_with_and_without_a_trailing_bot(
    sqlite_url: str, suffix: str
) -> None:
    from storage import migrate

    await migrate.upgrade(sqlite_url)
    async with SandboxServer() as api:
        settings = make_settings(sqlite_url, api.base_url + suffix)
        assert settings.telegram_api_base_url == api.base_url
        application = build_application(settings, migrate_on_start=False)
        async with running(application):
            stranger = api.add_user("Noor")
            await api.send_text(stranger, "/start")
            reply = await api.wait_for_message(stranger)
        assert reply.text == t("help.stranger", "nl")
        assert api.violations == []
