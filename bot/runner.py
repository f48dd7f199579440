"""Running the bot: long polling by default, webhooks when a URL is given."""

from __future__ import annotations

from telegram import Update

from bot.app import build_application
from bot.config import Settings


def run_bot(
    settings: Settings,
    *,
    webhook_url: str | None = None,
    port: int = 8443,
    secret: str | None = None,
    listen: str = "0.0.0.0",
) -> None:
    """Block until the bot is stopped (SIGINT/SIGTERM stop it cleanly)."""
    application = build_application(settings)
    if webhook_url:
        application.run_webhook(
            listen=listen,
            port=port,
            secret_token=secret,
            webhook_url=webhook_url,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
