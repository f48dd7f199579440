"""Handler registration, in one place. Order matters: PTB tries handlers of a group in order
and stops at the first that matches, so specific handlers come before general fallbacks.

group -3: log context (the update id on every log line) and the updates-handled counter.
group -2: guards (handlers/guard.py), e.g. the per-user flood limit.
group -1: the group gate (a student writing in a group gets a polite "use a private chat").
group 0, in order:
1. commands (each feature's), because a command is never an answer to a question;
2. callback queries by their prefix (consent, check-in, observation, the loop's, alert
   buttons);
3. feature-specific message handlers (a mentor's reply to a loop question ✍️, then a text
   answer to an open question; a werkbegeleider's typed line is routed there too, by role,
   since a filter cannot see the role);
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

from bot.checkin.flow import BUTTON_PATTERN, EXPECT, RESUME
from bot.observe.round import TAP_PATTERN
from bot.runtime.flood import FloodLimiter
from bot.runtime.logs import context_handler
from handlers import (
    checkin,
    common,
    enrol,
    group,
    guard,
    loop,
    mentor,
    observe,
    observer,
    privacy,
    rounds,
    status,
)


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
            CommandHandler("verder", checkin.resume_command, filters=private),
            CommandHandler("vraag", checkin.ask_command, filters=private),
            CommandHandler("status", status.status_command, filters=private),
            CommandHandler("werkbegeleider", observe.link_command, filters=private),
            CommandHandler("signaal", observe.signal_command),
            CommandHandler("nu", rounds.now_command),
            # the loop's buttons before the mentor's general alert-button handler (al:…)
            *loop.loop_handlers(),
            *mentor.handlers_for_mentors(),
            *privacy.privacy_handlers(),
            *observer.observer_handlers(),
            CallbackQueryHandler(enrol.consent_button, pattern=enrol.CONSENT_PATTERN),
            CallbackQueryHandler(observe.consent_button, pattern=observe.CONSENT_PATTERN),
            CallbackQueryHandler(observe.tap_button, pattern=TAP_PATTERN),
            CallbackQueryHandler(observe.unlink_button, pattern=observe.UNLINK_PATTERN),
            CallbackQueryHandler(checkin.resume_command, pattern=f"^{RESUME}$"),
            CallbackQueryHandler(checkin.expectations_button, pattern=f"^{EXPECT}"),
            CallbackQueryHandler(checkin.answer_button, pattern=BUTTON_PATTERN),
            CallbackQueryHandler(common.unknown_button),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, checkin.text_answer),
            MessageHandler(groups & ~filters.StatusUpdate.ALL, common.group_fallback),
            MessageHandler(private & ~filters.StatusUpdate.ALL, common.private_fallback),
        ]
    )
    # group -3: tag log lines with the update id and count the update (bot.runtime.logs).
    application.add_handler(context_handler(), group=-3)
    # group -2 runs before everything: guards such as the per-user flood limit.
    settings = application.bot_data.config()
    limiter = FloodLimiter(burst=settings.flood_burst, per_second=settings.flood_per_second)
    for handler in guard.guard_handlers(limiter):
        application.add_handler(handler, group=-2)
    # group -1 runs first for every group message: it stops students' messages there.
    application.add_handler(MessageHandler(groups, common.group_gate), group=-1)
    application.add_error_handler(common.error_handler)  # type: ignore[arg-type]
