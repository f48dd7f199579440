"""Handler registration, in one place. Order matters: PTB tries handlers of a group in order
and stops at the first that matches, so specific handlers come before general fallbacks.

group 0, in order:
1. commands (each feature's), because a command is never an answer to a question;
2. callback queries by their prefix (consent, check-in, alert buttons);
3. feature-specific message handlers (a text answer to an open question);
4. fallbacks: group messages, then anything in a private chat (strangers, stickers, photos).
"""

from __future__ import annotations

from typing import Any

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import common, enrol, group


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every handler of the bot in the order explained above."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handlers(
        [
            CommandHandler("start", enrol.start_command),
            CommandHandler("help", common.help_command),
            CommandHandler("taal", common.language_command),
            CommandHandler("koppel", group.link_command),
            CallbackQueryHandler(enrol.consent_button, pattern=enrol.CONSENT_PATTERN),
            MessageHandler(groups & ~filters.StatusUpdate.ALL, common.group_fallback),
            MessageHandler(private & ~filters.StatusUpdate.ALL, common.private_fallback),
        ]
    )
    application.add_error_handler(common.error_handler)  # type: ignore[arg-type]
